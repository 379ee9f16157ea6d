"""What Careline answers by itself to STOP, START and HELP (and their Spanish words), in both languages.

Each answer is a template rendered by the one safe renderer with the location's fields, so it names the
configured clinic (`clinic_name_for`) and is written in the patient's language, or in the keyword's
language when the number matches no patient.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from careline.messaging.keywords import keyword_language
from careline.messaging.template_values import location_values, text_language
from careline.messaging.templating import TemplateKind, template_render

if TYPE_CHECKING:
    from careline.locations.models import Location
    from careline.patients.models import Patient

# (purpose, language) -> template; "*_no_phone" when the location has no phone to name.
KEYWORD_ANSWER_TEMPLATES: dict[tuple[str, str], str] = {
    ("help", "en"): "{clinic_name}: patient messages. Call us at {location_phone}. Reply STOP to opt out. "
    "Msg&data rates may apply.",
    (
        "help",
        "es",
    ): "{clinic_name}: mensajes para pacientes. Llámenos al {location_phone}. Responda ALTO para "
    "darse de baja. Pueden aplicarse tarifas de mensajes y datos.",
    (
        "help_no_phone",
        "en",
    ): "{clinic_name}: patient messages. Reply STOP to opt out. Msg&data rates may apply.",
    (
        "help_no_phone",
        "es",
    ): "{clinic_name}: mensajes para pacientes. Responda ALTO para darse de baja. Pueden "
    "aplicarse tarifas de mensajes y datos.",
    (
        "opt_out",
        "en",
    ): "{clinic_name}: You are unsubscribed and will get no more texts. Reply START to opt back in.",
    (
        "opt_out",
        "es",
    ): "{clinic_name}: Se dio de baja y no recibirá más mensajes. Responda COMENZAR para volver "
    "a recibirlos.",
    ("cancel_hint", "en"): "To cancel a visit, call {location_phone} or use the patient portal.",
    ("cancel_hint", "es"): "Para cancelar una cita, llame al {location_phone} o use el portal del paciente.",
    ("cancel_hint_no_phone", "en"): "To cancel a visit, call us or use the patient portal.",
    ("cancel_hint_no_phone", "es"): "Para cancelar una cita, llámenos o use el portal del paciente.",
    (
        "opt_in",
        "en",
    ): "{clinic_name}: You are subscribed to texts again. Reply HELP for help, STOP to opt out.",
    (
        "opt_in",
        "es",
    ): "{clinic_name}: Volverá a recibir mensajes. Responda AYUDA para obtener ayuda o ALTO para "
    "darse de baja.",
}


def answer_language(*, patient: Patient | None, candidates: list[Patient], text: str) -> str:
    """The language of an automatic answer: the patient's; else the one every candidate shares; else TEXT's."""
    if patient is not None:
        return text_language(patient.language)
    languages = {text_language(candidate.language) for candidate in candidates}
    if len(languages) == 1:
        return languages.pop()
    return keyword_language(text)


def _render(purpose: str, language: str, values: dict[str, str]) -> str:
    if not values["location_phone"] and (f"{purpose}_no_phone", language) in KEYWORD_ANSWER_TEMPLATES:
        purpose = f"{purpose}_no_phone"
    return template_render(
        KEYWORD_ANSWER_TEMPLATES[purpose, language], values, kind=TemplateKind.KEYWORD_ANSWER
    )


def keyword_answer(
    purpose: str, *, location: Location | None, language: str, cancel_hint: bool = False
) -> str:
    """The answer to a keyword: PURPOSE is 'help', 'opt_out' or 'opt_in'; CANCEL_HINT after CANCEL/CANCELAR."""
    language = text_language(language)
    values = location_values(location, language)
    text = _render(purpose, language, values)
    if cancel_hint:
        text = f"{text} {_render('cancel_hint', language, values)}"
    return text
