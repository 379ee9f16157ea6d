"""Every field a template kind offers renders non-empty with sample data: reminders (text and email, English
and Spanish), visit notices (the booking confirmation among them), and {visit_type} in both its forms."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from careline.core.languages import say
from careline.messaging.templating import TemplateKind, fields_for, template_render, template_validate
from careline.scheduling.models import Reminder
from careline.scheduling.services.reminders import reminder_text
from careline.scheduling.tests.reminders_support import _no_default_rules, make_appointment, make_type
from careline.scheduling.texts import NOTICE_TEMPLATES, visit_facts

VISIT = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)
EVERY_FIELD = " ".join(f"{name}=[{{{name}}}]" for name in fields_for(TemplateKind.REMINDER))


pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures(_no_default_rules.__name__),
    pytest.mark.clock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC)),
    pytest.mark.usefixtures("clock"),
]


def rendered_fields(text: str) -> dict[str, str]:
    return dict(re.findall(r"(\w+)=\[([^\]]*)\]", text))


def reminder_for(personas, *, spanish: bool, safe_type: bool, channel: str) -> Reminder:
    from careline.scheduling.models import ReminderRule

    rule = ReminderRule.objects.create(
        name="Every field", minutes_before=60, template_en=EVERY_FIELD, translations={"es": EVERY_FIELD}
    )
    kind = make_type("Flu shot" if safe_type else "Annual physical", name_safe_to_text=safe_type)
    patient = personas.quinn if spanish else personas.pat
    location = personas.location_b if spanish else personas.location_a
    appointment = make_appointment(personas, VISIT, patient=patient, location=location, appointment_type=kind)
    return Reminder.objects.create(
        appointment=appointment, rule=rule, channel=channel, appointment_starts_at=VISIT, due_at=VISIT
    )


@pytest.mark.parametrize("channel", ["sms", "email"])
@pytest.mark.parametrize("spanish", [False, True], ids=["en", "es"])
def test_a_reminder_renders_every_offered_field(personas, channel, spanish):
    template_validate(EVERY_FIELD, kind=TemplateKind.REMINDER)
    reminder = reminder_for(personas, spanish=spanish, safe_type=True, channel=channel)
    body, language = reminder_text(reminder, channel=channel)
    assert language == ("es" if spanish else "en")
    values = rendered_fields(body)
    assert set(values) == set(fields_for(TemplateKind.REMINDER))
    assert all(values.values()), values
    assert values["visit_type"] == "Flu shot"
    assert values["first_name"] == ("Quinn" if spanish else "Pat")


@pytest.mark.parametrize(("spanish", "word"), [(False, "visit"), (True, "cita")], ids=["en", "es"])
def test_visit_type_says_visit_when_the_type_is_not_safe_to_text(personas, spanish, word):
    reminder = reminder_for(personas, spanish=spanish, safe_type=False, channel="sms")
    body, _ = reminder_text(reminder, channel="sms")
    assert rendered_fields(body)["visit_type"] == word
    assert "Annual physical" not in body


@pytest.mark.parametrize("spanish", [False, True], ids=["en", "es"])
def test_visit_facts_fill_every_notice_field(personas, spanish):
    patient = personas.quinn if spanish else personas.pat
    appointment = make_appointment(personas, VISIT, patient=patient)
    language = "es" if spanish else "en"
    facts = visit_facts(appointment, language=language)
    assert {name: bool(facts.get(name)) for name in fields_for(TemplateKind.NOTICE)} == dict.fromkeys(
        fields_for(TemplateKind.NOTICE), True
    )
    text = template_render(EVERY_FIELD, facts, kind=TemplateKind.NOTICE)
    assert all(rendered_fields(text).values())


@pytest.mark.parametrize("event", sorted(NOTICE_TEMPLATES))
@pytest.mark.parametrize("language", ["en", "es"])
def test_each_notice_template_is_valid_and_fully_filled(personas, event, language):
    template = say(NOTICE_TEMPLATES[event], language)
    template_validate(template, kind=TemplateKind.NOTICE)
    appointment = make_appointment(personas, VISIT)
    text = template_render(template, visit_facts(appointment, language=language), kind=TemplateKind.NOTICE)
    assert "{" not in text and "Pat" in text and "Northside Clinic" in text
    assert " ," not in text and "  " not in text  # no field left empty mid-sentence


def test_the_clinic_name_of_a_visit_text_is_the_configured_one(personas, settings):
    settings.CARELINE_CLINIC_NAME = "Riverside Health"
    facts = visit_facts(make_appointment(personas, VISIT))
    assert facts["clinic_name"] == "Riverside Health" and facts["location_name"] == "Northside Clinic"


def test_a_spanish_reminder_email_has_a_spanish_subject(personas):
    from careline.messaging.models import Message
    from careline.scheduling.services.reminders import reminders_sweep

    personas.quinn.email = "quinn@example.test"
    personas.quinn.save()
    reminder = reminder_for(personas, spanish=True, safe_type=True, channel="email")
    reminders_sweep(now=reminder.due_at)
    reminder.refresh_from_db()
    message = Message.objects.get(pk=reminder.message_id)
    assert message.subject == "Recordatorio de su cita"
