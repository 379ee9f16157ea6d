"""What Careline answers by itself (STOP, START, HELP, after hours), word for word in English and Spanish.

The expectations were written from the texts before they moved to the gettext catalogue.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from careline.core.languages import say
from careline.messaging.auto_answers import AFTER_HOURS_TEMPLATE, keyword_answer
from careline.messaging.models import AFTER_HOURS_TEXT_EN, AFTER_HOURS_TEXT_ES
from careline.messaging.template_values import clinic_name_for

CLINIC = SimpleNamespace(name="Northside Clinic", address="1 Main St", phone="+13125550100")
NO_PHONE = SimpleNamespace(name="Northside Clinic", address="1 Main St", phone="")

ANSWERS = {
    (
        "help",
        "en",
        True,
    ): "Northside Clinic: patient messages. Call us at (312) 555-0100. Reply STOP to opt out. "
    "Msg&data rates may apply.",
    (
        "help",
        "es",
        True,
    ): "Northside Clinic: mensajes para pacientes. Llámenos al (312) 555-0100. Responda ALTO "
    "para darse de baja. Pueden aplicarse tarifas de mensajes y datos.",
    (
        "help",
        "en",
        False,
    ): "Northside Clinic: patient messages. Reply STOP to opt out. Msg&data rates may apply.",
    ("help", "es", False): "Northside Clinic: mensajes para pacientes. Responda ALTO para darse de baja. "
    "Pueden aplicarse tarifas de mensajes y datos.",
    ("opt_out", "en", True): "Northside Clinic: You are unsubscribed and will get no more texts. "
    "Reply START to opt back in.",
    ("opt_out", "es", True): "Northside Clinic: Se dio de baja y no recibirá más mensajes. "
    "Responda COMENZAR para volver a recibirlos.",
    ("opt_in", "en", True): "Northside Clinic: You are subscribed to texts again. "
    "Reply HELP for help, STOP to opt out.",
    ("opt_in", "es", True): "Northside Clinic: Volverá a recibir mensajes. "
    "Responda AYUDA para obtener ayuda o ALTO para darse de baja.",
}
HINTS = {
    ("en", True): " To cancel a visit, call (312) 555-0100 or use the patient portal.",
    ("es", True): " Para cancelar una cita, llame al (312) 555-0100 o use el portal del paciente.",
    ("en", False): " To cancel a visit, call us or use the patient portal.",
    ("es", False): " Para cancelar una cita, llámenos o use el portal del paciente.",
}


@pytest.fixture(autouse=True)
def _no_configured_clinic_name(settings):
    settings.CARELINE_CLINIC_NAME = ""


@pytest.mark.parametrize(("purpose", "language", "phone"), sorted(ANSWERS))
def test_keyword_answers_in_both_languages(purpose, language, phone):
    location = CLINIC if phone else NO_PHONE
    expected = ANSWERS[purpose, language, phone]
    assert keyword_answer(purpose, location=location, language=language) == expected
    with_hint = keyword_answer(purpose, location=location, language=language, cancel_hint=True)
    assert with_hint == expected + HINTS[language, phone]


def test_a_language_careline_does_not_write_gets_the_english_answer():
    assert keyword_answer("opt_out", location=CLINIC, language="fr") == ANSWERS["opt_out", "en", True]


def test_the_default_after_hours_text_and_the_nameless_clinic_in_both_languages():
    assert say(AFTER_HOURS_TEMPLATE, "en") == AFTER_HOURS_TEXT_EN
    assert say(AFTER_HOURS_TEMPLATE, "es") == AFTER_HOURS_TEXT_ES
    assert AFTER_HOURS_TEXT_ES == (
        "{location_name} está cerrado ahora. Le responderemos cuando abramos. Si es una emergencia, llame al 911."
    )
    assert clinic_name_for(None, "en") == "Your clinic"
    assert clinic_name_for(None, "es") == "Su clínica"
