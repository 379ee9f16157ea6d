import django.db.models.deletion
from django.db import migrations, models

# Reminder planning inserts hundreds of thousands of rows: the appointment index is the first column of the
# unique plan (appointment, rule, channel, time), which answers the same look-ups; the message index held a
# NULL for every planned reminder, so it now holds only the reminders that were sent. Only indexes change
# (no table is rebuilt, on SQLite either).

DROPPED = ["scheduling_reminder_appointment_id_0c5f750b", "scheduling_reminder_message_id_25e9e882"]


def indexes_dropped(apps, schema_editor):
    for name in DROPPED:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


def indexes_restored(apps, schema_editor):
    schema_editor.execute(
        'CREATE INDEX "scheduling_reminder_appointment_id_0c5f750b" ON "scheduling_reminder" ("appointment_id")'
    )
    schema_editor.execute(
        'CREATE INDEX "scheduling_reminder_message_id_25e9e882" ON "scheduling_reminder" ("message_id")'
    )


class Migration(migrations.Migration):

    dependencies = [
        ("messaging", "0023_drop_redundant_indexes"),
        ("scheduling", "0007_visit_requests_and_preparation_translations"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="reminder",
                    name="appointment",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="reminders",
                        to="scheduling.appointment",
                    ),
                ),
                migrations.AlterField(
                    model_name="reminder",
                    name="message",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="messaging.message",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(indexes_dropped, indexes_restored, elidable=False)],
        ),
        migrations.AddIndex(
            model_name="reminder",
            index=models.Index(
                condition=models.Q(("message__isnull", False)), fields=["message"], name="reminder_message"
            ),
        ),
    ]
