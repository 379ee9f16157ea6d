"""The database itself refuses to change an audit entry (and, on PostgreSQL, to delete one).

SQLite keeps no DELETE trigger because the test runner's flush empties tables with DELETE; PostgreSQL's
flush uses TRUNCATE, which row triggers do not see.
"""

from django.db import migrations


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(
            "CREATE TRIGGER core_auditentry_no_update BEFORE UPDATE ON core_auditentry "
            "BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END;"
        )
    elif vendor == "postgresql":
        schema_editor.execute(
            "CREATE OR REPLACE FUNCTION core_auditentry_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'audit trail is append-only'; END; $$ LANGUAGE plpgsql;"
        )
        schema_editor.execute(
            "CREATE TRIGGER core_auditentry_append_only BEFORE UPDATE OR DELETE ON core_auditentry "
            "FOR EACH ROW EXECUTE FUNCTION core_auditentry_append_only();"
        )


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS core_auditentry_no_update;")
    elif vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS core_auditentry_append_only ON core_auditentry;")
        schema_editor.execute("DROP FUNCTION IF EXISTS core_auditentry_append_only();")


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(create_triggers, drop_triggers)]
