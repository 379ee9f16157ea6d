"""Indexes that match the inbox list's keyset order on open conversations (queries/inbox_list.py).

The list sorts by `last_message_at` (or `last_patient_message_at`) descending with never-set rows last, then
`id` descending, within a status (open by default). The indexes of migrations 0001/0013
(`status, -last_message_at`) are DESC NULLS FIRST on PostgreSQL and have no `id`, so the database sorted
every open conversation for each page. These walk in the list's own order, so a page reads its 51 rows
(and the few it skips as not visible) and stops. SQLite has no NULLS LAST in an index, but DESC already puts NULL last there.
Written per database (Django's Index cannot say NULLS LAST only where it is supported), so they are not in
the model's Meta.
"""

from django.db import migrations

ORDERS = {
    "conversation_open_activity": "last_message_at",
    "conversation_open_patient": "last_patient_message_at",
}


# The conversations of a number nobody is linked to and no location (the front desk's visibility rule,
# queries/inbox.py, judges each of these few by its number).
UNLINKED = (
    "CREATE INDEX IF NOT EXISTS conversation_unlinked_contact ON messaging_conversation (contact) "
    "WHERE patient_id IS NULL AND location_id IS NULL"
)


def create(apps, schema_editor):
    nulls = " NULLS LAST" if schema_editor.connection.vendor == "postgresql" else ""
    for name, column in ORDERS.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON messaging_conversation "
            f"(status, {column} DESC{nulls}, id DESC)"
        )
    schema_editor.execute(UNLINKED)


def drop(apps, schema_editor):
    for name in [*ORDERS, "conversation_unlinked_contact"]:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("messaging", "0013_conversation_needs_attention")]

    operations = [migrations.RunPython(create, drop)]
