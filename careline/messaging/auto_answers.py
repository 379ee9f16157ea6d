"""What Careline answers by itself to STOP, START and HELP (and their Spanish words), in both languages.

Each answer is a template rendered by the one safe renderer with the location's fields, so it names the
configured clinic (`clinic_name_for`) and is written in the patient's language, or in the keyword's
language when the number matches no patient.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

from careline.core.languages import say, text_language
from careline.messaging.keywords import keyword_language
from careline.messaging.template_values import location_values
from careline.messaging.templating import TemplateKind, template_render

if TYPE_CHECKING:
    from careline.locations.models import Location
    from careline.patients.models import Patient

# purpose -> template; "*_no_phone" when the location has no phone to name.
KEYWORD_ANSWER_TEMPLATES: dict[str, Promise] = {
    "help": pgettext_lazy(
        "keyword answer",
        "{clinic_name}: patient messages. Call us at {location_phone}. Reply STOP to opt out. "
        "Msg&data rates may apply.",
    ),
    "help_no_phone": pgettext_lazy(
        "keyword answer", "{clinic_name}: patient messages. Reply STOP to opt out. Msg&data rates may apply."
    ),
    "opt_out": pgettext_lazy(
        "keyword answer",
        "{clinic_name}: You are unsubscribed and will get no more texts. Reply START to opt back in.",
    ),
    "cancel_hint": pgettext_lazy(
        "keyword answer", "To cancel a visit, call {location_phone} or use the patient portal."
    ),
    "cancel_hint_no_phone": pgettext_lazy(
        "keyword answer", "To cancel a visit, call us or use the patient portal."
    ),
    "opt_in": pgettext_lazy(
        "keyword answer",
        "{clinic_name}: You are subscribed to texts again. Reply HELP for help, STOP to opt out.",
    ),
}

# The after-hours answer of a location without a messaging policy (a policy's defaults are the same text,
# stored: careline.messaging.models.AFTER_HOURS_TEXT_EN and _ES).
AFTER_HOURS_TEMPLATE = pgettext_lazy(
    "after-hours answer",
    "{location_name} is closed now. We will answer when we open. If this is an emergency, call 911.",
)


# The after-hours answer to a text with urgent words when a responder (the on-call line) told someone now.
AFTER_HOURS_URGENT_TEMPLATE = pgettext_lazy(
    "after-hours answer",
    "{location_name} is closed now. We have told the on-call clinician about your message. If this is an "
    "emergency, call 911.",
)


def answer_language(*, patient: Patient | None, candidates: list[Patient], text: str) -> str:
    """The language of an automatic answer: the patient's; else the one every candidate shares; else TEXT's."""
    if patient is not None:
        return text_language(patient.language)
    languages = {text_language(candidate.language) for candidate in candidates}
    if len(languages) == 1:
        return languages.pop()
    return keyword_language(text)


def _render(purpose: str, language: str, values: dict[str, str]) -> str:
    if not values["location_phone"] and f"{purpose}_no_phone" in KEYWORD_ANSWER_TEMPLATES:
        purpose = f"{purpose}_no_phone"
    return template_render(
        say(KEYWORD_ANSWER_TEMPLATES[purpose], language), values, kind=TemplateKind.KEYWORD_ANSWER
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
