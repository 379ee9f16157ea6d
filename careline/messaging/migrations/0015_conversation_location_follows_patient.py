"""A linked conversation's location becomes its patient's current location, as messaging now keeps it
(`conversations_on_patient_updated`, on the PatientUpdated event): the inbox's visibility rule and location
filter then read the conversation's own indexed column instead of joining every conversation to its patient.
Unlinked conversations keep theirs. Backwards: nothing to undo (the column stays as filled).
"""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def conversation_location_from_patient(apps, schema_editor):
    Conversation = apps.get_model("messaging", "Conversation")
    Patient = apps.get_model("patients", "Patient")
    home = Patient.objects.filter(pk=OuterRef("patient_id")).values("primary_location_id")[:1]
    Conversation.objects.filter(patient__isnull=False).update(location_id=Subquery(home))


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0014_conversation_open_list_order_indexes"),
        ("patients", "0003_language_choices_from_settings"),
    ]

    operations = [migrations.RunPython(conversation_location_from_patient, migrations.RunPython.noop)]
