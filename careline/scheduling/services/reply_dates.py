"""Reading a day and time out of a patient's free-text reply ("can I come Thursday afternoon?", "¿el lunes a
las 3?") in English or Spanish, relative to the patient's clock.

`dateparser` reads the day; parts of the day and clock times are read here first, because dateparser turns
"lunes a las 3" into a date in March and treats "mañana" only as "tomorrow".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateparser.search import search_dates

LANGUAGES = ["en", "es"]

# Clinic hours: a bare "3" means 3 PM, never 3 AM.
_EARLIEST_MORNING_HOUR = 7

PARTS_OF_DAY: dict[str, tuple[time, time]] = {
    "morning": (time(0, 0), time(12, 0)),
    "afternoon": (time(12, 0), time(17, 0)),
    "evening": (time(17, 0), time(23, 59)),
}

_PART_PATTERNS = [
    (re.compile(r"\b(?:por|en|de)\s+la\s+manana\b|\bmorning\b"), "morning"),
    (re.compile(r"\b(?:por|en|de)\s+la\s+tarde\b|\bafternoon\b"), "afternoon"),
    (re.compile(r"\b(?:por|en|de)\s+la\s+noche\b|\bevening\b|\btonight\b"), "evening"),
]

# A clock time needs a marker (at / a las / am / pm / a colon) so "Dec 3" or "el 3 de diciembre" stay dates.
_CLOCK = re.compile(
    r"(?:\b(?:at|around|a\s+las|a\s+la|sobre\s+las|tipo)\s+(?P<h1>\d{1,2})(?::(?P<m1>\d{2}))?\s*(?P<ap1>am|pm|a\.m\.|p\.m\.)?)"
    r"|(?:\b(?P<h2>\d{1,2}):(?P<m2>\d{2})\s*(?P<ap2>am|pm|a\.m\.|p\.m\.)?)"
    r"|(?:\b(?P<h3>\d{1,2})\s*(?P<ap3>am|pm|a\.m\.|p\.m\.))"
    r"|(?P<noon>\bnoon\b|\bmediodia\b)"
)

# Only these make a dateparser match believable: free text is full of words like "may", "sun" or "second".
_DATE_WORDS = re.compile(
    r"\d|\b(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*day\b|\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b"
    r"|\b(?:lunes|martes|miercoles|jueves|viernes|sabado|domingo)\b|\b(?:tomorrow|today|manana|hoy|pasado)\b"
    r"|\b(?:next|proximo|proxima|siguiente)\b"
)


@dataclass(frozen=True)
class TimeWish:
    """A day the patient asked for, with a window of local time on it (the whole day when none was named)."""

    day: date
    earliest: time
    latest: time
    exact: time | None = None  # a named clock time: slots nearest it come first

    def window(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The aware start and end of the wished window in ZONE."""
        start = datetime.combine(self.day, self.earliest, tzinfo=zone)
        end = datetime.combine(self.day, self.latest, tzinfo=zone)
        return start, end


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _clock(match: re.Match[str], part: str | None) -> time:
    if match.group("noon"):
        return time(12, 0)
    hour = int(match.group("h1") or match.group("h2") or match.group("h3"))
    minute = int(match.group("m1") or match.group("m2") or 0)
    ampm = (match.group("ap1") or match.group("ap2") or match.group("ap3") or "").replace(".", "")
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    elif not ampm and hour < 12 and (part in ("afternoon", "evening") or hour < _EARLIEST_MORNING_HOUR):
        hour += 12
    if hour > 23 or minute > 59:
        raise ValueError("not a clock time")
    return time(hour, minute)


def time_wish_parse(text: str, *, now: datetime, zone: ZoneInfo) -> TimeWish | None:
    """The day (and part of day or time) TEXT asks for, in ZONE relative to NOW; None when it names none."""
    folded = _fold(text or "")
    if not folded.strip():
        return None
    part: str | None = None
    for pattern, name in _PART_PATTERNS:
        if pattern.search(folded):
            part = name
            folded = pattern.sub(" ", folded)
            break
    clock: time | None = None
    clock_match = _CLOCK.search(folded)
    if clock_match:
        try:
            clock = _clock(clock_match, part)
        except ValueError:
            return None
        folded = folded[: clock_match.start()] + " " + folded[clock_match.end() :]
    local_now = now.astimezone(zone)
    found = search_dates(
        folded,
        languages=LANGUAGES,
        settings={
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": local_now.replace(tzinfo=None),
            "RETURN_AS_TIMEZONE_AWARE": False,
        },
    )
    day: date | None = None
    for matched, moment in found or []:
        if _DATE_WORDS.search(matched):
            day = moment.date()
            break
    if day is None:
        return None
    if day < local_now.date():
        return None
    if clock is not None:
        # Around the named time: half an hour before to two hours after.
        start = datetime.combine(day, clock) - timedelta(minutes=30)
        end = datetime.combine(day, clock) + timedelta(hours=2)
        earliest = start.time() if start.date() == day else time(0, 0)
        latest = end.time() if end.date() == day else time(23, 59)
        return TimeWish(day=day, earliest=earliest, latest=latest, exact=clock)
    if part is not None:
        earliest, latest = PARTS_OF_DAY[part]
        return TimeWish(day=day, earliest=earliest, latest=latest)
    return TimeWish(day=day, earliest=time(0, 0), latest=time(23, 59))
