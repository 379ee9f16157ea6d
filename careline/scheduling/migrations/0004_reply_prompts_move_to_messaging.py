# Scheduling's reply prompts become messaging Prompts owned by "scheduling" (the reply router reads them).
# Every row is copied with its id, so nothing that remembered a prompt's id loses it; the visit a prompt was
# about becomes its subject key ("appointment:12"), as on the texts about that visit.

from django.core.management.color import no_style
from django.db import migrations

OWNER = "scheduling"
BATCH = 2000


def _reset_sequence(schema_editor, model):
    # Rows were inserted with explicit ids: PostgreSQL's sequence must move past them (SQLite needs nothing).
    with schema_editor.connection.cursor() as cursor:
        for sql in schema_editor.connection.ops.sequence_reset_sql(no_style(), [model]):
            cursor.execute(sql)


def _keep_created_at(model):
    # auto_now_add would stamp every copied row with the migration's time; the questions' ages matter (a reply
    # acts on questions of the last 90 days). The historical model class is this migration's own.
    model._meta.get_field("created_at").auto_now_add = False


def copy_reply_prompts_to_messaging(apps, schema_editor):
    """Copy every scheduling ReplyPrompt into messaging's Prompt, same id, owner 'scheduling'."""
    ReplyPrompt = apps.get_model("scheduling", "ReplyPrompt")
    Prompt = apps.get_model("messaging", "Prompt")
    _keep_created_at(Prompt)
    batch = []
    for old in ReplyPrompt.objects.order_by("pk").iterator(chunk_size=BATCH):
        batch.append(
            Prompt(
                id=old.pk,
                phone_number=old.phone_number,
                conversation_id=old.conversation_id,
                owner=OWNER,
                kind=old.kind,
                subject_key=f"appointment:{old.appointment_id}" if old.appointment_id else "",
                options=old.options,
                state=old.state,
                message_id=old.message_id,
                created_at=old.created_at,
                expires_at=old.expires_at,
            )
        )
        if len(batch) >= BATCH:
            Prompt.objects.bulk_create(batch)
            batch = []
    Prompt.objects.bulk_create(batch)
    _reset_sequence(schema_editor, Prompt)


def copy_prompts_back_to_scheduling(apps, schema_editor):
    """The reverse: scheduling's Prompts back into ReplyPrompt (same ids), then out of messaging."""
    ReplyPrompt = apps.get_model("scheduling", "ReplyPrompt")
    Prompt = apps.get_model("messaging", "Prompt")
    Appointment = apps.get_model("scheduling", "Appointment")
    _keep_created_at(ReplyPrompt)
    prompts = list(Prompt.objects.filter(owner=OWNER).order_by("pk"))
    ids = set()
    for prompt in prompts:
        prefix, _, raw = prompt.subject_key.partition(":")
        if prefix == "appointment" and raw.isdigit():
            ids.add(int(raw))
    existing = set(Appointment.objects.filter(pk__in=ids).values_list("pk", flat=True))
    rows = []
    for prompt in prompts:
        raw = prompt.subject_key.partition(":")[2]
        appointment_id = int(raw) if raw.isdigit() and int(raw) in existing else None
        rows.append(
            ReplyPrompt(
                id=prompt.pk,
                phone_number=prompt.phone_number,
                conversation_id=prompt.conversation_id,
                appointment_id=appointment_id,
                kind=prompt.kind[:15],
                options=prompt.options,
                state=prompt.state,
                message_id=prompt.message_id,
                created_at=prompt.created_at,
                expires_at=prompt.expires_at,
            )
        )
    ReplyPrompt.objects.bulk_create(rows, batch_size=BATCH)
    Prompt.objects.filter(owner=OWNER).delete()
    _reset_sequence(schema_editor, ReplyPrompt)


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0010_prompt"),
        ("scheduling", "0003_reminder_replan"),
    ]

    operations = [
        migrations.RunPython(copy_reply_prompts_to_messaging, copy_prompts_back_to_scheduling),
        migrations.DeleteModel(
            name="ReplyPrompt",
        ),
    ]
