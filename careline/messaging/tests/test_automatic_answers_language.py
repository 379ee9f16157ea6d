"""Automatic answers (STOP, START, HELP, after hours) are in the patient's language, or the keyword's when the
number matches no patient, and name the configured clinic."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from careline.core.languages import say
from careline.messaging.auto_answers import KEYWORD_ANSWER_TEMPLATES
from careline.messaging.channels.base import InboundMessage
from careline.messaging.models import AFTER_HOURS_TEXT_EN, AFTER_HOURS_TEXT_ES, Message, MessagingPolicy
from careline.messaging.services.channels import simulator_channel
from careline.messaging.services.inbound import inbound_receive
from careline.messaging.template_values import clinic_name_for
from careline.messaging.templating import TemplateKind, template_validate
from careline.patients.models import Patient, PatientPhone

PAT = "+13125550111"  # English
QUINN = "+14155550122"  # Spanish, at Harbor Clinic
STRANGER = "+13125550999"
OPEN_HOURS = datetime(2026, 3, 4, 12, 0, tzinfo=ZoneInfo("America/Chicago"))
CLOSED = datetime(2026, 3, 4, 22, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
_ids = iter(range(1, 10**9))


pytestmark = [pytest.mark.clock(OPEN_HOURS), pytest.mark.usefixtures("clock")]


def receive(body: str, number: str) -> None:
    channel = simulator_channel()
    inbound_receive(
        channel=channel,
        inbound=InboundMessage(
            provider_message_id=f"LANG-{next(_ids)}",
            from_address=number,
            to_address=channel.address,
            body=body,
        ),
    )


def last_answer() -> str:
    return Message.objects.filter(direction="out").latest("id").body


def test_a_spanish_patient_who_texts_alto_is_answered_in_spanish(personas):
    receive("ALTO", QUINN)
    answer = last_answer()
    assert "Se dio de baja" in answer and "COMENZAR" in answer
    assert "unsubscribed" not in answer
    assert answer.startswith("Harbor Clinic:")


@pytest.mark.parametrize("word", ["STOP", "HELP", "START"])
def test_a_spanish_patient_gets_spanish_answers_to_english_keywords(personas, word):
    if word == "START":
        receive("STOP", QUINN)
    receive(word, QUINN)
    answer = last_answer()
    assert any(spanish in answer for spanish in ("Se dio de baja", "mensajes para pacientes", "Volverá"))


def test_an_english_patient_who_texts_alto_is_answered_in_english(personas):
    receive("ALTO", PAT)
    assert "You are unsubscribed" in last_answer()


@pytest.mark.parametrize(
    ("word", "expected"),
    [("ALTO", "Se dio de baja"), ("AYUDA", "mensajes para pacientes"), ("STOP", "You are unsubscribed")],
)
def test_an_unknown_number_is_answered_in_the_keywords_language(personas, word, expected):
    receive(word, STRANGER)
    assert expected in last_answer()


def test_a_family_phone_of_spanish_speakers_is_answered_in_spanish(personas):
    other = Patient.objects.create(
        mrn="MRN-Q2",
        legal_first_name="Rosa",
        legal_last_name="Baker",
        date_of_birth=personas.quinn.date_of_birth,
        primary_location=personas.location_b,
        language="es",
    )
    PatientPhone.objects.create(patient=other, number=QUINN, is_primary=True)
    receive("STOP", QUINN)
    assert "Se dio de baja" in last_answer()


def test_cancelar_adds_how_to_cancel_a_visit_in_spanish(personas):
    receive("CANCELAR", QUINN)
    answer = last_answer()
    assert "Para cancelar una cita, llame al (415) 555-0100" in answer


@pytest.mark.parametrize(
    ("number", "word"), [(PAT, "HELP"), (PAT, "STOP"), (QUINN, "AYUDA"), (QUINN, "ALTO"), (STRANGER, "HELP")]
)
def test_keyword_answers_name_the_configured_clinic(personas, settings, number, word):
    settings.CARELINE_CLINIC_NAME = "Riverside Health"
    receive(word, number)
    answer = last_answer()
    assert answer.startswith("Riverside Health:")
    assert "Northside" not in answer and "Harbor" not in answer


def test_the_start_answer_names_the_configured_clinic(personas, settings):
    settings.CARELINE_CLINIC_NAME = "Riverside Health"
    receive("STOP", PAT)
    receive("START", PAT)
    assert last_answer().startswith("Riverside Health: You are subscribed")


def test_the_after_hours_answer_is_in_the_patients_language(personas, clock):
    clock.move_to(CLOSED, tick=False)
    receive("¿Está abierto mañana?", QUINN)
    answer = last_answer()
    assert answer.startswith("Harbor Clinic está cerrado") and "911" in answer


def test_a_spanish_patient_gets_the_english_after_hours_text_when_the_spanish_one_is_blank(personas, clock):
    MessagingPolicy.objects.create(
        location=personas.location_b,
        after_hours_text="{clinic_name} is closed. Call 911.",
        after_hours_translations={},
    )
    clock.move_to(CLOSED, tick=False)
    receive("Hola", QUINN)
    assert last_answer() == "Harbor Clinic is closed. Call 911."


def test_clinic_name_for_prefers_the_configured_name(personas, settings):
    assert clinic_name_for(personas.location_a) == "Northside Clinic"
    assert clinic_name_for(None, "es") == "Su clínica"
    settings.CARELINE_CLINIC_NAME = "Riverside Health"
    assert clinic_name_for(personas.location_a) == "Riverside Health"


@pytest.mark.parametrize("key", sorted(KEYWORD_ANSWER_TEMPLATES))
@pytest.mark.parametrize("language", ["en", "es"])
def test_every_built_in_answer_is_a_valid_template(key, language):
    template_validate(say(KEYWORD_ANSWER_TEMPLATES[key], language), kind=TemplateKind.KEYWORD_ANSWER)


@pytest.mark.parametrize("template", [AFTER_HOURS_TEXT_EN, AFTER_HOURS_TEXT_ES])
def test_the_default_after_hours_texts_are_valid_templates(template):
    template_validate(template, kind=TemplateKind.AFTER_HOURS)
