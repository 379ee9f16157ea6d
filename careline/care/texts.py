"""What care texts say to patients (English msgids, Spanish in the catalogue), and how they are rendered.

A text is filled in two steps: care's own values (the measures asked for, an example, the values the patient
sent, the time) with `say`, braces escaped; then the allow-listed patient and clinic fields with the one safe
renderer, `template_render`. No text carries a threshold, a judgement of a value or a diagnosis.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.utils.translation import pgettext_lazy

from careline.care.measures import Measure
from careline.core.languages import say

CHECKIN_MORNING = pgettext_lazy(
    "care check-in", "Good morning {first_name}, please reply with today's {measures}, for example {example}."
)
CHECKIN = pgettext_lazy(
    "care check-in", "Hi {first_name}, please reply with today's {measures}, for example {example}."
)
CHECKIN_QUESTION = pgettext_lazy("care check-in symptom question", "Also: {question} Reply Y or N.")
REMINDER = pgettext_lazy(
    "care check-in reminder",
    "Hi {first_name}, we have not received today's check-in yet. Please reply with your {measures}, for example "
    "{example}.",
)
CONFIRMED = pgettext_lazy("care reading recorded", "Thanks, we recorded {readings} on {when}.")
SAFETY_LINE = pgettext_lazy(
    "care daily safety line", "Texts are not watched around the clock. In an emergency, call 911."
)
CRITICAL_ANSWER = pgettext_lazy(
    "care critical reading answer",
    "{first_name}, please call {clinic_name} now at {location_phone}. If you have chest pain, trouble "
    "breathing, weakness on one side or confusion, call 911.",
)
CRITICAL_ANSWER_ON_CALL = pgettext_lazy(
    "care critical reading answer",
    "{first_name}, we have told the clinician on call. Please call {clinic_name} now at {location_phone}. If "
    "you have chest pain, trouble breathing, weakness on one side or confusion, call 911.",
)
IMPLAUSIBLE = pgettext_lazy(
    "care reading implausible",
    "That number looks unusual, so we did not record it. Please check it and send it again, for example "
    "{example}.",
)
UNREADABLE = pgettext_lazy(
    "care reading unreadable",
    "Sorry, we could not read that. Please reply with your {measures}, for example {example}.",
)
ENROLLED = pgettext_lazy(
    "care enrolment notice",
    "Hi {first_name}, {clinic_name} will text you check-ins for the next {days} days. {instructions}",
)
PORTAL_CHECKIN = pgettext_lazy(
    "care portal check-in notice",
    "Hi {first_name}, your check-in for today is ready in your patient portal: {portal_link}",
)
PORTAL_CHECKIN_REMINDER = pgettext_lazy(
    "care portal check-in notice",
    "Hi {first_name}, we have not received today's check-in yet. You can answer it in your patient portal: "
    "{portal_link}",
)
PORTAL_CHECKIN_SUBJECT = pgettext_lazy("care portal check-in notice", "Your check-in is ready")
PORTAL_UNREADABLE = pgettext_lazy(
    "care portal reading unreadable", "We could not read that. Enter it like this: {example}."
)
PORTAL_NOTHING = pgettext_lazy("care portal reading", "Enter at least one reading.")
INSTRUCTIONS_LINK = pgettext_lazy("care enrolment notice link", "Your instructions: {link}")

MEASURE_ASKED: dict[str, Any] = {
    Measure.BLOOD_PRESSURE: pgettext_lazy("care measure asked", "blood pressure"),
    Measure.GLUCOSE_FASTING: pgettext_lazy("care measure asked", "fasting blood sugar"),
    Measure.GLUCOSE_AFTER_MEAL: pgettext_lazy("care measure asked", "blood sugar after a meal"),
    Measure.WEIGHT: pgettext_lazy("care measure asked", "weight"),
    Measure.SPO2: pgettext_lazy("care measure asked", "oxygen level"),
    Measure.TEMPERATURE: pgettext_lazy("care measure asked", "temperature"),
    Measure.PAIN: pgettext_lazy("care measure asked", "pain from 0 to 10"),
}
MEASURE_EXAMPLE: dict[str, Any] = {
    Measure.BLOOD_PRESSURE: "128/82",
    Measure.GLUCOSE_FASTING: pgettext_lazy("care measure example", "sugar 110"),
    Measure.GLUCOSE_AFTER_MEAL: pgettext_lazy("care measure example", "sugar 140"),
    Measure.WEIGHT: pgettext_lazy("care measure example", "weight 180 lb"),
    Measure.SPO2: "o2 96%",
    Measure.TEMPERATURE: pgettext_lazy("care measure example", "temp 98.6"),
    Measure.PAIN: pgettext_lazy("care measure example", "pain 3"),
    Measure.SYMPTOM: "N",
}
AND = pgettext_lazy("care list of measures", " and ")
YES = pgettext_lazy("care symptom answer", "yes")
NO = pgettext_lazy("care symptom answer", "no")


def _escaped(value: object) -> str:
    return str(value).replace("{", "{{").replace("}", "}}")


def care_text(text: Any, language: str, fields: Mapping[str, str], **care_values: object) -> str:
    """TEXT in LANGUAGE: CARE_VALUES filled in, then the allow-listed FIELDS by the safe renderer."""
    from careline.messaging.templating import ALLOWED_FIELDS, TemplateKind, template_render

    placeholders = {name: "{" + name + "}" for name in ALLOWED_FIELDS}
    said = say(text, language, **placeholders, **{k: _escaped(v) for k, v in care_values.items()})
    return template_render(said, fields, kind=TemplateKind.ANNOUNCEMENT)


def measures_asked(measures: Iterable[str], language: str) -> tuple[str, str]:
    """("blood pressure and weight", "128/82") for a check-in asking for MEASURES (symptoms apart)."""
    numeric = [m for m in measures if m != Measure.SYMPTOM]
    names = [say(MEASURE_ASKED[Measure(m)], language) for m in numeric]
    examples = [say(MEASURE_EXAMPLE[Measure(m)], language) for m in numeric]
    if not names:
        return "", say(MEASURE_EXAMPLE[Measure.SYMPTOM], language)
    joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + say(AND, language) + names[-1]
    return joined, ", ".join(examples)


# The same catalogue entries as scheduling's texts (one translation each).
WEEKDAYS = [
    pgettext_lazy("weekday in a text", "Mon"),
    pgettext_lazy("weekday in a text", "Tue"),
    pgettext_lazy("weekday in a text", "Wed"),
    pgettext_lazy("weekday in a text", "Thu"),
    pgettext_lazy("weekday in a text", "Fri"),
    pgettext_lazy("weekday in a text", "Sat"),
    pgettext_lazy("weekday in a text", "Sun"),
]


def when_text(moment: datetime, language: str) -> str:
    """'Tue 9:05 AM' ('mar 9:05' in Spanish) for an aware local MOMENT."""
    from careline.scheduling.texts import human_time

    return f"{say(WEEKDAYS[moment.weekday()], language)} {human_time(moment, language)}"
