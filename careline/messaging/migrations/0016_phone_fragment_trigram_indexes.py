"""Trigram indexes for the inbox's phone search on PostgreSQL (queries/inbox_list.py, `_phone_condition`).

A phone fragment ("0170", "555-0170") is searched as `LIKE '%…%'` on the conversation's number and on every
patient phone; without an index that reads both tables whole. `pg_trgm`'s GIN indexes answer such a LIKE
for three or more characters (the search asks four digits or more). The patient phones' index is made here,
beside the conversations', because the inbox's search is what needs it. PostgreSQL only: on SQLite nothing
is done (a substring scan, fine for the small clinics SQLite serves).
"""

from django.db import migrations

INDEXES = {
    "conversation_contact_trigram": "messaging_conversation (contact gin_trgm_ops)",
    "patientphone_number_trigram": "patients_patientphone (number gin_trgm_ops)",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, target in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target.replace(' (', ' USING gin (', 1)}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0015_conversation_location_follows_patient"),
        ("patients", "0003_language_choices_from_settings"),
    ]

    operations = [migrations.RunPython(create, drop)]
