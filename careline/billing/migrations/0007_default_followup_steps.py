"""The default collections sequence: reminder at 15 days, second channel at 30, call task at 60, review at 90."""

from django.db import migrations

DEFAULT_STEPS = [(15, "reminder"), (30, "second_channel"), (60, "call_task"), (90, "review")]


def seed(apps, schema_editor):
    FollowUpStep = apps.get_model("billing", "FollowUpStep")
    if not FollowUpStep.objects.exists():
        FollowUpStep.objects.bulk_create(
            [FollowUpStep(days_after=days, action=action) for days, action in DEFAULT_STEPS]
        )


class Migration(migrations.Migration):
    dependencies = [("billing", "0006_collections")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
