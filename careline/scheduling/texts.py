"""What scheduling texts say: allow-listed facts about a visit, human dates and times, the reply-words sentence.

Texts carry no clinical detail: the appointment type's name only when an administrator marked it safe.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings

from careline.messaging.template_values import location_values, text_language
from careline.scheduling.models import Appointment, AppointmentType

# What {visit_type} says when the type's name is not marked safe to text (it may be clinical).
NEUTRAL_VISIT_WORD = {"en": "visit", "es": "cita"}

_DAYS_ES = ["lun", "mar", "mié", "jue", "vie", "sáb", "dom"]
_MONTHS_ES = ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"]

DEFAULT_TEMPLATE_EN = (
    "Hi {first_name}, this is a reminder of your visit at {location_name}, {location_address} on {date} at "
    "{time}. Add it to your calendar: {link}"
)
DEFAULT_TEMPLATE_ES = (
    "Hola {first_name}, le recordamos su cita en {location_name}, {location_address} el {date} a las {time}. "
    "Agréguela a su calendario: {link}"
)

NOTICE_TEMPLATES: dict[str, dict[str, str]] = {
    "booked": {
        "en": "Hi {first_name}, your visit at {location_name}, {location_address} is booked for {date} at {time}. "
        "Add it to your calendar: {link}",
        "es": "Hola {first_name}, su cita en {location_name}, {location_address} quedó reservada para el {date} "
        "a las {time}. Agréguela a su calendario: {link}",
    },
    "moved": {
        "en": "Hi {first_name}, your visit at {location_name}, {location_address} has moved to {date} at {time}. "
        "Updated calendar entry: {link} Questions? Call {location_phone}.",
        "es": "Hola {first_name}, su cita en {location_name}, {location_address} cambió al {date} a las {time}. "
        "Calendario actualizado: {link} ¿Preguntas? Llame al {location_phone}.",
    },
    "cancelled": {
        "en": "Hi {first_name}, your visit at {location_name} on {date} at {time} has been cancelled by the clinic. "
        "To book again call {location_phone}.",
        "es": "Hola {first_name}, la clínica canceló su cita en {location_name} del {date} a las {time}. "
        "Para reservar otra llame al {location_phone}.",
    },
}

# Subjects of the emails of reminders and notices, in the text's language.
EMAIL_SUBJECTS: dict[str, dict[str, str]] = {
    "reminder": {"en": "Visit reminder", "es": "Recordatorio de su cita"},
    "booked": {"en": "Visit booked", "es": "Cita reservada"},
    "moved": {"en": "Visit moved", "es": "Cita cambiada"},
    "cancelled": {"en": "Visit cancelled", "es": "Cita cancelada"},
}


def human_date(moment: datetime, language: str = "en") -> str:
    """'Thu, Dec 3' (or 'jue 3 dic' in Spanish) for an aware local MOMENT."""
    if language == "es":
        return f"{_DAYS_ES[moment.weekday()]} {moment.day} {_MONTHS_ES[moment.month - 1]}"
    return f"{moment:%a, %b} {moment.day}"


def human_time(moment: datetime, language: str = "en") -> str:
    """'8:30 AM' (or '8:30' in Spanish, 24-hour) for an aware local MOMENT."""
    if language == "es":
        return f"{moment.hour}:{moment:%M}"
    return f"{moment.hour % 12 or 12}:{moment:%M} {'AM' if moment.hour < 12 else 'PM'}"


def reply_words() -> tuple[str, str, str]:
    """The configured reply words for confirm, reschedule and cancel (CARELINE_REPLY_*)."""
    return (
        settings.CARELINE_REPLY_CONFIRM,
        settings.CARELINE_REPLY_RESCHEDULE,
        settings.CARELINE_REPLY_CANCEL,
    )


def reply_sentence(language: str = "en", words: tuple[str, str, str] | None = None) -> str:
    """The sentence every reminder ends with: 'Reply C to confirm, R to reschedule or X to cancel.'"""
    confirm, reschedule, cancel = words or reply_words()
    if language == "es":
        return f"Responda {confirm} para confirmar, {reschedule} para cambiar la cita o {cancel} para cancelarla."
    return f"Reply {confirm} to confirm, {reschedule} to reschedule or {cancel} to cancel."


def with_reply_sentence(body: str, language: str = "en") -> str:
    """BODY ending with the configured reply sentence exactly once.

    Templates may carry the shipped sentence (C, R, X); it is replaced, so a clinic that configured other
    words never sends a text naming two sets of them.
    """
    for lang in ("en", "es"):
        body = body.replace(reply_sentence(lang, ("C", "R", "X")), "")
    return f"{' '.join(body.split())} {reply_sentence(language)}"


def visit_facts(
    appointment: Appointment, *, language: str = "en", patient_zone: ZoneInfo | None = None
) -> dict[str, str]:
    """The allow-listed template values for a text about APPOINTMENT (visit time in the location's zone)."""
    from careline.scheduling.ics import ics_url

    patient = appointment.patient
    location = appointment.location
    local = appointment.starts_at.astimezone(location.zone)
    time_text = human_time(local, language)
    zone = patient_zone or patient.zone
    if zone.key != location.zone.key:
        # The patient lives elsewhere: say whose clock the visit time is on.
        time_text = f"{time_text} {local.tzname()}"
    kind = appointment.appointment_type
    return {
        **location_values(location, language),
        "first_name": patient.first_name,
        "date": human_date(local, language),
        "time": time_text,
        "link": ics_url(appointment),
        "visit_type": visit_type_text(kind, language),
    }


def visit_type_text(kind: AppointmentType, language: str = "en") -> str:
    """The type's name when it is marked safe to text; otherwise the neutral 'visit' ('cita')."""
    if kind.name_safe_to_text and kind.name.strip():
        return kind.name
    return NEUTRAL_VISIT_WORD[text_language(language)]
