"""The default reminder rules: 2 days before (at 10:00 local time) and 2 hours before, by text.

Created only when no reminder rule exists yet, so an installation that already defined its own rules
keeps them untouched. Reversing removes these two rules only while they still carry the shipped
names and templates (a rule an administrator edited is left alone).

The templates use only fields of the messaging allow-list (careline.messaging.templating) and say
"on {date} at {time}" rather than "today": a 2-hours-before reminder for an early visit is moved out of
quiet hours to the evening before.
"""

from datetime import time

from django.db import migrations

REPLY_WORDS_EN = "Reply C to confirm, R to reschedule or X to cancel."
REPLY_WORDS_ES = "Responda C para confirmar, R para cambiar la cita o X para cancelarla."

DEFAULT_RULES = (
    {
        "name": "Two days before",
        "days_before": 2,
        "at_local_time": time(10, 0),
        "minutes_before": None,
        "channel": "sms",
        "template_en": (
            "Hi {first_name}, this is a reminder of your visit at {location_name}, {location_address}, "
            "on {date} at {time}. Add it to your calendar: {link} " + REPLY_WORDS_EN
        ),
        "template_es": (
            "Hola {first_name}, le recordamos su cita en {location_name}, {location_address}, "
            "el {date} a las {time}. Agréguela a su calendario: {link} " + REPLY_WORDS_ES
        ),
    },
    {
        "name": "Two hours before",
        "days_before": None,
        "at_local_time": None,
        "minutes_before": 120,
        "channel": "sms",
        "template_en": (
            "Hi {first_name}, see you on {date} at {time} at {location_name}, {location_address}. "
            "Calendar: {link} " + REPLY_WORDS_EN
        ),
        "template_es": (
            "Hola {first_name}, le esperamos el {date} a las {time} en {location_name}, {location_address}. "
            "Calendario: {link} " + REPLY_WORDS_ES
        ),
    },
)


def create_default_rules(apps, schema_editor):
    ReminderRule = apps.get_model("scheduling", "ReminderRule")
    if ReminderRule.objects.using(schema_editor.connection.alias).exists():
        return  # the clinic already has rules of its own
    for spec in DEFAULT_RULES:
        ReminderRule.objects.using(schema_editor.connection.alias).create(**spec)


def remove_default_rules(apps, schema_editor):
    ReminderRule = apps.get_model("scheduling", "ReminderRule")
    for spec in DEFAULT_RULES:
        ReminderRule.objects.using(schema_editor.connection.alias).filter(**spec).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_default_rules, remove_default_rules),
    ]
