"""A patient's own portal access opens the new Care program section (readings and check-ins); caregivers'
grants stay as they were (the patient or staff grant it section by section)."""

from django.db import migrations

CARE = "care"


def own_records_open_care(apps, schema_editor):
    PortalAccess = apps.get_model("portal", "PortalAccess")
    for access in PortalAccess.objects.filter(caregiver__isnull=True).only("pk", "sections"):
        if CARE not in (access.sections or []):
            PortalAccess.objects.filter(pk=access.pk).update(sections=[*(access.sections or []), CARE])


class Migration(migrations.Migration):
    dependencies = [("portal", "0007_invitation_batch_recovery")]

    operations = [migrations.RunPython(own_records_open_care, migrations.RunPython.noop)]
