"""The inbox list's row facts as columns on Conversation (careline/messaging/conversation_facts.py).

`waiting_on_patient`, `last_out_failed` and `opted_out` were three correlated subqueries the list and its
counts worked out for every open conversation; now the services that change them set them. The backfill is
one set-based UPDATE per fact, each conversation's value read over the indexes the subqueries already had
(messages by conversation and time, consent entries by number and time): no rows are loaded into Python.

And an index over the open conversations holding every column the quick filters' counts read, so the counts
are answered from the index: on PostgreSQL keyed by location (the front desk's visibility rule) with the other
columns included; on SQLite (no INCLUDE) all of them as keys. Written per database, so not in Meta.
"""

from datetime import UTC, datetime

from django.db import migrations, models
from django.db.models import Exists, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact, In

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
NEVER_TRIED = ("cancelled", "suppressed")
FAILED = ["failed", "undelivered"]
COUNTED = "unread_count, assigned_to_id, flagged, waiting_on_patient, last_out_failed, opted_out, updated_at"


def backfill(apps, schema_editor):
    Conversation = apps.get_model("messaging", "Conversation")
    Message = apps.get_model("messaging", "Message")
    ConsentEvent = apps.get_model("patients", "ConsentEvent")
    outbound = Message.objects.filter(conversation=OuterRef("pk"), direction="out").exclude(
        state__in=NEVER_TRIED
    )
    staff_after = outbound.filter(
        kind="staff", created_at__gt=Coalesce(OuterRef("last_patient_message_at"), Value(LONG_AGO))
    )
    last_state = Subquery(outbound.order_by("-created_at", "-id").values("state")[:1])
    consent = Subquery(
        ConsentEvent.objects.filter(phone_number=OuterRef("contact"), kind__in=["given", "revoked"])
        .order_by("-occurred_at", "-id")
        .values("kind")[:1]
    )
    rows = Conversation.objects.all()
    # Only rows where a fact holds are written (the column's default is false).
    rows.filter(Exists(staff_after)).update(waiting_on_patient=True)
    rows.filter(In(last_state, FAILED)).update(last_out_failed=True)
    revoked_numbers = ConsentEvent.objects.filter(kind="revoked").values("phone_number")
    rows.filter(contact__in=revoked_numbers).filter(Exact(consent, "revoked")).update(opted_out=True)


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS conversation_open_facts ON messaging_conversation (location_id) "
            f"INCLUDE (id, status, {COUNTED}) WHERE status = 'open'"
        )
    else:
        schema_editor.execute(
            # Location first, not status: with status first SQLite took it for the list's page too (an
            # equality on status) and sorted every open conversation instead of walking the order index.
            "CREATE INDEX IF NOT EXISTS conversation_open_facts ON messaging_conversation "
            f"(location_id, status, {COUNTED}) WHERE status = 'open'"
        )


def drop_index(apps, schema_editor):
    schema_editor.execute("DROP INDEX IF EXISTS conversation_open_facts")


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0017_message_sensitive"),
        ("patients", "0003_language_choices_from_settings"),
    ]

    operations = [
        migrations.AddField(
            model_name="conversation",
            name="last_out_failed",
            field=models.BooleanField(
                default=False,
                help_text="The newest outbound text that was meant to go failed or was not delivered",
            ),
        ),
        migrations.AddField(
            model_name="conversation",
            name="opted_out",
            field=models.BooleanField(
                default=False, help_text="The number's latest general consent entry is a revocation (STOP)"
            ),
        ),
        migrations.AddField(
            model_name="conversation",
            name="waiting_on_patient",
            field=models.BooleanField(
                default=False,
                help_text="Staff wrote after the patient's last text (or the patient never wrote)",
            ),
        ),
        # The index first: PostgreSQL cannot build it after the UPDATEs in one transaction (pending triggers).
        migrations.RunPython(create_index, drop_index),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
