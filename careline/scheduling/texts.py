"""What scheduling texts say: allow-listed facts about a visit, human dates and times, the reply-words sentence.

Texts carry no clinical detail: the appointment type's name only when an administrator marked it safe.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

from careline.core.languages import say, supported_languages
from careline.messaging.template_values import location_values
from careline.scheduling.models import Appointment, AppointmentType

if TYPE_CHECKING:
    from careline.locations.models import Location

# What {visit_type} says when the type's name is not marked safe to text (it may be clinical).
NEUTRAL_VISIT_WORD = pgettext_lazy("visit type not safe to text", "visit")

# Day and month names as a text writes them (the English ones are strftime's %a and %b).
_DAYS = [
    pgettext_lazy("weekday in a text", "Mon"),
    pgettext_lazy("weekday in a text", "Tue"),
    pgettext_lazy("weekday in a text", "Wed"),
    pgettext_lazy("weekday in a text", "Thu"),
    pgettext_lazy("weekday in a text", "Fri"),
    pgettext_lazy("weekday in a text", "Sat"),
    pgettext_lazy("weekday in a text", "Sun"),
]
_MONTHS = [
    pgettext_lazy("month in a text", "Jan"),
    pgettext_lazy("month in a text", "Feb"),
    pgettext_lazy("month in a text", "Mar"),
    pgettext_lazy("month in a text", "Apr"),
    pgettext_lazy("month in a text", "May"),
    pgettext_lazy("month in a text", "Jun"),
    pgettext_lazy("month in a text", "Jul"),
    pgettext_lazy("month in a text", "Aug"),
    pgettext_lazy("month in a text", "Sep"),
    pgettext_lazy("month in a text", "Oct"),
    pgettext_lazy("month in a text", "Nov"),
    pgettext_lazy("month in a text", "Dec"),
]
# The order of a date's parts and the clock a language reads (Spanish: 'jue 3 dic', 24-hour '8:30').
DATE_FORMAT = pgettext_lazy("date in a text", "{weekday}, {month} {day}")
# A language may use {hour24} instead (msgfmt is told not to ask for the same fields):
# xgettext:no-python-brace-format
TIME_FORMAT = pgettext_lazy("time in a text", "{hour12}:{minute} {am_pm}")
_AM = pgettext_lazy("time in a text", "AM")
_PM = pgettext_lazy("time in a text", "PM")

# The seed of a new reminder rule's templates (the shipped rules are a migration's, left as stored).
DEFAULT_TEMPLATE = pgettext_lazy(
    "reminder template",
    "Hi {first_name}, this is a reminder of your visit at {location_name}, {location_address} on {date} at "
    "{time}. Add it to your calendar: {link}",
)

NOTICE_TEMPLATES: dict[str, Promise] = {
    "booked": pgettext_lazy(
        "visit booked notice",
        "Hi {first_name}, your visit at {location_name}, {location_address} is booked for {date} at {time}. "
        "Add it to your calendar: {link}",
    ),
    "moved": pgettext_lazy(
        "visit moved notice",
        "Hi {first_name}, your visit at {location_name}, {location_address} has moved to {date} at {time}. "
        "Updated calendar entry: {link} Questions? Call {location_phone}.",
    ),
    "cancelled": pgettext_lazy(
        "visit cancelled notice",
        "Hi {first_name}, your visit at {location_name} on {date} at {time} has been cancelled by the clinic. "
        "To book again call {location_phone}.",
    ),
}

# Subjects of the emails of reminders and notices.
EMAIL_SUBJECTS: dict[str, Promise] = {
    "reminder": pgettext_lazy("email subject", "Visit reminder"),
    "booked": pgettext_lazy("email subject", "Visit booked"),
    "moved": pgettext_lazy("email subject", "Visit moved"),
    "cancelled": pgettext_lazy("email subject", "Visit cancelled"),
}

# The sentence every reminder text ends with.
REPLY_SENTENCE = pgettext_lazy(
    "reminder reply words", "Reply {confirm} to confirm, {reschedule} to reschedule or {cancel} to cancel."
)


def default_template(language: str) -> str:
    """The template a new reminder rule starts from, in LANGUAGE."""
    return say(DEFAULT_TEMPLATE, language)


def human_date(moment: datetime, language: str = "en") -> str:
    """'Thu, Dec 3' (or 'jue 3 dic' in Spanish) for an aware local MOMENT."""
    return say(
        DATE_FORMAT,
        language,
        weekday=say(_DAYS[moment.weekday()], language),
        month=say(_MONTHS[moment.month - 1], language),
        day=moment.day,
    )


def human_time(moment: datetime, language: str = "en") -> str:
    """'8:30 AM' (or '8:30' in Spanish, 24-hour) for an aware local MOMENT."""
    return say(
        TIME_FORMAT,
        language,
        hour12=moment.hour % 12 or 12,
        hour24=moment.hour,
        minute=f"{moment:%M}",
        am_pm=say(_AM if moment.hour < 12 else _PM, language),
    )


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
    return say(REPLY_SENTENCE, language, confirm=confirm, reschedule=reschedule, cancel=cancel)


def with_reply_sentence(body: str, language: str = "en", *, pieces: TextPieces | None = None) -> str:
    """BODY ending with the configured reply sentence exactly once.

    Templates may carry the shipped sentence (C, R, X); it is replaced, so a clinic that configured other
    words never sends a text naming two sets of them. PIECES: a batch's shared TextPieces.
    """
    pieces = pieces or TextPieces()
    for shipped in pieces.shipped_reply_sentences():
        body = body.replace(shipped, "")
    return f"{' '.join(body.split())} {pieces.reply_sentence(language)}"


class TextPieces:
    """The parts of scheduling texts that repeat across a batch (a location's values, a day's date, a clock
    time, a type's word, the reply sentences, the calendar link's path), each worked out once.

    Every piece is what the one-text functions give for the same inputs; a fresh TextPieces (the default of
    visit_facts and with_reply_sentence) shares nothing. Keep one for a batch of texts made together, never
    longer (settings and catalogues are read when a piece is first asked for).
    """

    def __init__(self) -> None:
        self._memo: dict[tuple[object, ...], str] = {}
        self._locations: dict[tuple[int, str], dict[str, str]] = {}
        self._shipped: list[str] | None = None
        self._ics_path: tuple[str, str] | None = None

    def _piece(self, key: tuple[object, ...], make: Callable[[], str]) -> str:
        piece = self._memo.get(key)
        if piece is None:
            piece = self._memo[key] = make()
        return piece

    def date(self, local: datetime, language: str) -> str:
        """human_date of LOCAL (a date's words depend on the day only)."""
        return self._piece(("date", local.date(), language), lambda: human_date(local, language))

    def time(self, local: datetime, language: str) -> str:
        """human_time of LOCAL (its hour and minute)."""
        return self._piece(("time", local.hour, local.minute, language), lambda: human_time(local, language))

    def visit_type(self, kind: AppointmentType, language: str) -> str:
        return self._piece(("type", kind.pk, language), lambda: visit_type_text(kind, language))

    def location(self, location: Location, language: str) -> dict[str, str]:
        key = (location.pk, language)
        values = self._locations.get(key)
        if values is None:
            values = self._locations[key] = location_values(location, language)
        return values

    def reply_sentence(self, language: str) -> str:
        return self._piece(("reply", language), lambda: reply_sentence(language))

    def shipped_reply_sentences(self) -> list[str]:
        """The shipped sentence (C, R, X) in every supported language."""
        if self._shipped is None:
            self._shipped = [reply_sentence(lang, ("C", "R", "X")) for lang in supported_languages()]
        return self._shipped

    def link(self, appointment: Appointment) -> str:
        """ics_url of APPOINTMENT: its token signed each time, the path around it resolved once."""
        from careline.scheduling.ics import ics_path_around, ics_token, ics_url

        if self._ics_path is None:
            self._ics_path = ics_path_around()
        token = ics_token(appointment)
        if not ICS_TOKEN_PLAIN.fullmatch(token):  # never for a signed token; reverse() would quote it
            return ics_url(appointment)
        before, after = self._ics_path
        return f"{before}{token}{after}"


# The characters of a signed token (URL-safe base64, ':' between its parts, '.' before a compressed one),
# which the URL resolver leaves as they are.
ICS_TOKEN_PLAIN = re.compile(r"[A-Za-z0-9_.:-]+")


def visit_facts(
    appointment: Appointment,
    *,
    language: str = "en",
    patient_zone: ZoneInfo | None = None,
    pieces: TextPieces | None = None,
) -> dict[str, str]:
    """The allow-listed template values for a text about APPOINTMENT (visit time in the location's zone).

    PIECES: a batch's shared TextPieces (the result is the same; what repeats is worked out once).
    """
    pieces = pieces or TextPieces()
    patient = appointment.patient
    location = appointment.location
    location_zone = location.zone
    local = appointment.starts_at.astimezone(location_zone)
    time_text = pieces.time(local, language)
    zone = patient_zone or patient.zone
    if zone.key != location_zone.key:
        # The patient lives elsewhere: say whose clock the visit time is on.
        time_text = f"{time_text} {local.tzname()}"
    return {
        **pieces.location(location, language),
        "first_name": patient.first_name,
        "date": pieces.date(local, language),
        "time": time_text,
        "link": pieces.link(appointment),
        "visit_type": pieces.visit_type(appointment.appointment_type, language),
    }


def visit_type_text(kind: AppointmentType, language: str = "en") -> str:
    """The type's name when it is marked safe to text; otherwise the neutral 'visit' ('cita')."""
    if kind.name_safe_to_text and kind.name.strip():
        return kind.name
    return say(NEUTRAL_VISIT_WORD, language)
