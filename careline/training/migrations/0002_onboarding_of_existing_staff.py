"""Staff who signed in before training existed are not new: their onboarding counts as given."""

from typing import Any

from django.db import migrations
from django.utils import timezone


def existing_staff_onboarded(apps: Any, schema_editor: Any) -> None:
    User = apps.get_model("accounts", "User")
    Onboarding = apps.get_model("training", "Onboarding")
    now = timezone.now()
    Onboarding.objects.bulk_create(
        [Onboarding(user_id=pk, given_at=now) for pk in User.objects.filter(last_login__isnull=False).values_list("pk", flat=True)],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("training", "0001_initial")]

    operations = [migrations.RunPython(existing_staff_onboarded, migrations.RunPython.noop)]
