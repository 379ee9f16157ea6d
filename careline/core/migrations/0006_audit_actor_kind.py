"""The audit trail records the kind of actor (staff, patient, caregiver, API client, system) and its ids.

Existing entries get `staff` when they name a user, else `system`, and keep `chain_version` 1: their hash
stays the one they were written with (`audit_verify` checks their kind against their user instead). The
append-only guards refuse that update, so they are lifted for it and put back as 0005 left them.
"""

import importlib

from django.db import migrations, models

GUARDS = importlib.import_module("careline.core.migrations.0005_audit_guards")


def lift_guards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS core_auditentry_no_update;")
        schema_editor.execute("DROP TRIGGER IF EXISTS core_auditentry_no_delete;")
    elif vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS core_auditentry_append_only ON core_auditentry;")
        schema_editor.execute("DROP TRIGGER IF EXISTS core_auditentry_no_truncate ON core_auditentry;")


def existing_entries(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "UPDATE core_auditentry SET chain_version = 1,"
            " actor_kind = CASE WHEN actor_id IS NULL THEN 'system' ELSE 'staff' END"
        )


class Migration(migrations.Migration):
    dependencies = [("core", "0005_audit_guards")]

    operations = [
        migrations.RunPython(lift_guards, GUARDS.install_guards),
        migrations.AddField(
            model_name="auditentry",
            name="actor_kind",
            field=models.CharField(
                choices=[
                    ("staff", "Staff"),
                    ("patient", "Patient"),
                    ("caregiver", "Caregiver"),
                    ("api_client", "API client"),
                    ("system", "System"),
                ],
                default="system",
                max_length=12,
            ),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="api_token_id",
            field=models.BigIntegerField(blank=True, help_text="The API token used, if any", null=True),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="caregiver_id",
            field=models.BigIntegerField(blank=True, help_text="The caregiver who acted, if any", null=True),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="chain_version",
            field=models.PositiveSmallIntegerField(
                default=2, editable=False, help_text="Which fields the entry's hash covers"
            ),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="on_behalf_of_id",
            field=models.BigIntegerField(
                blank=True, help_text="The patient a caregiver acted for, or who acted themselves", null=True
            ),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="request_id",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.RunPython(existing_entries, migrations.RunPython.noop),
        migrations.RunPython(GUARDS.install_guards, lift_guards),
    ]
