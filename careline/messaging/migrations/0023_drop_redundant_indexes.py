import django.db.models.deletion
from django.db import migrations, models

# Every message insert (a fan-out writes thousands per statement) paid for 19 indexes; six answered nothing
# another index does not: state (and its LIKE twin) under (state, due_at); conversation under (conversation,
# created_at); patient under (patient, -created_at); the LIKE twins of idempotency_key and subject_key, which
# are only compared whole. Conversations lose status and its LIKE twin, under the (status, ...) list indexes.
# The unique idempotency key and the subject key index stay, renamed to the names the model now declares;
# only indexes are dropped or renamed (no table is rebuilt, on SQLite either).

DROPPED = [
    "messaging_conversation_status_b576d003",
    "messaging_conversation_status_b576d003_like",
    "messaging_message_conversation_id_3db4d3d1",
    "messaging_message_patient_id_6d53f108",
    "messaging_message_state_7b5c87dc",
    "messaging_message_state_7b5c87dc_like",
    "messaging_message_idempotency_key_0ee4d6bf_like",
    "messaging_message_subject_key_d6f18fad_like",
]

RESTORED = {
    "postgresql": [
        "CREATE INDEX messaging_conversation_status_b576d003 ON messaging_conversation (status)",
        "CREATE INDEX messaging_conversation_status_b576d003_like ON messaging_conversation (status varchar_pattern_ops)",
        "CREATE INDEX messaging_message_conversation_id_3db4d3d1 ON messaging_message (conversation_id)",
        "CREATE INDEX messaging_message_patient_id_6d53f108 ON messaging_message (patient_id)",
        "CREATE INDEX messaging_message_state_7b5c87dc ON messaging_message (state)",
        "CREATE INDEX messaging_message_state_7b5c87dc_like ON messaging_message (state varchar_pattern_ops)",
        "CREATE INDEX messaging_message_idempotency_key_0ee4d6bf_like ON messaging_message (idempotency_key varchar_pattern_ops)",
        "CREATE INDEX messaging_message_subject_key_d6f18fad_like ON messaging_message (subject_key varchar_pattern_ops)",
    ],
    "sqlite": [
        'CREATE INDEX "messaging_conversation_status_b576d003" ON "messaging_conversation" ("status")',
        'CREATE INDEX "messaging_message_conversation_id_3db4d3d1" ON "messaging_message" ("conversation_id")',
        'CREATE INDEX "messaging_message_patient_id_6d53f108" ON "messaging_message" ("patient_id")',
        'CREATE INDEX "messaging_message_state_7b5c87dc" ON "messaging_message" ("state")',
    ],
}


def indexes_dropped(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for name in DROPPED:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')
    if vendor == "postgresql":
        schema_editor.execute(
            "ALTER INDEX messaging_message_subject_key_d6f18fad RENAME TO message_subject_key"
        )
        schema_editor.execute(
            "ALTER TABLE messaging_message RENAME CONSTRAINT messaging_message_idempotency_key_key"
            " TO message_unique_idempotency_key"
        )
    else:
        # SQLite cannot rename an index; its unique key stays the column's own (the table is not rebuilt).
        schema_editor.execute('DROP INDEX IF EXISTS "messaging_message_subject_key_d6f18fad"')
        schema_editor.execute('CREATE INDEX "message_subject_key" ON "messaging_message" ("subject_key")')


def indexes_restored(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE messaging_message RENAME CONSTRAINT message_unique_idempotency_key"
            " TO messaging_message_idempotency_key_key"
        )
        schema_editor.execute(
            "ALTER INDEX message_subject_key RENAME TO messaging_message_subject_key_d6f18fad"
        )
    else:
        schema_editor.execute('DROP INDEX IF EXISTS "message_subject_key"')
        schema_editor.execute(
            'CREATE INDEX "messaging_message_subject_key_d6f18fad" ON "messaging_message" ("subject_key")'
        )
    for statement in RESTORED.get(vendor, []):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0022_conversation_search_per_statement"),
        ("patients", "0003_language_choices_from_settings"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="conversation",
                    name="status",
                    field=models.CharField(
                        choices=[("open", "Open"), ("closed", "Closed")], default="open", max_length=10
                    ),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="conversation",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="messages",
                        to="messaging.conversation",
                    ),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="idempotency_key",
                    field=models.CharField(blank=True, max_length=200, null=True),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="patient",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="messages",
                        to="patients.patient",
                    ),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="state",
                    field=models.CharField(
                        choices=[
                            ("queued", "Queued"),
                            ("sending", "Sending"),
                            ("sent", "Sent"),
                            ("delivered", "Delivered"),
                            ("undelivered", "Not delivered"),
                            ("failed", "Failed"),
                            ("suppressed", "Not sent"),
                            ("cancelled", "Cancelled"),
                            ("received", "Received"),
                        ],
                        max_length=12,
                    ),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="subject_key",
                    field=models.CharField(blank=True, default="", max_length=64),
                ),
                migrations.AddIndex(
                    model_name="message",
                    index=models.Index(fields=["subject_key"], name="message_subject_key"),
                ),
                migrations.AddConstraint(
                    model_name="message",
                    constraint=models.UniqueConstraint(
                        fields=("idempotency_key",), name="message_unique_idempotency_key"
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(indexes_dropped, indexes_restored, elidable=False)],
        ),
    ]
