"""Chain the entries written before the hash chain existed, oldest (lowest id) first.

The append-only triggers of 0002 refuse these updates, so they are dropped here; 0005 puts the full set back.
"""

from django.db import migrations

from careline.core.models import CHAIN_FIELDS, CHAIN_GENESIS, chain_hash

BATCH = 1000


def drop_old_triggers(schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS core_auditentry_no_update;")
    elif schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS core_auditentry_append_only ON core_auditentry;")


def chain_existing(apps, schema_editor):
    drop_old_triggers(schema_editor)
    AuditEntry = apps.get_model("core", "AuditEntry")
    connection = schema_editor.connection
    fields = [name for name in CHAIN_FIELDS if name != "seq"]
    seq, prev_hash, last_id = 0, CHAIN_GENESIS, 0
    while True:
        rows = list(
            AuditEntry.objects.using(connection.alias)
            .filter(id__gt=last_id)
            .order_by("id")
            .values("id", *fields)[:BATCH]
        )
        if not rows:
            break
        updates = []
        for row in rows:
            seq += 1
            row["seq"] = seq
            entry_hash = chain_hash(row, prev_hash)
            updates.append((seq, prev_hash, entry_hash, row["id"]))
            prev_hash, last_id = entry_hash, row["id"]
        with connection.cursor() as cursor:
            cursor.executemany(
                "UPDATE core_auditentry SET seq = %s, prev_hash = %s, entry_hash = %s WHERE id = %s", updates
            )


class Migration(migrations.Migration):
    dependencies = [("core", "0003_audit_hash_chain")]
    operations = [migrations.RunPython(chain_existing, migrations.RunPython.noop)]
