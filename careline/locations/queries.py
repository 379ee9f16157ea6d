"""Reads about locations: when a location is open on a given local day."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from careline.locations.models import Location, OpeningHours

DAY_MINUTES = 24 * 60
# How far ahead the calendar looks for the next day a location opens.
OPEN_DAY_LOOKAHEAD = 14


def _minutes(clock: time) -> int:
    return clock.hour * 60 + clock.minute


def merge_minutes(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """SPANS (start, end minutes of a day) sorted, with overlapping or touching spans joined."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def open_minutes_on(periods: Iterable[OpeningHours], day: date) -> list[tuple[int, int]]:
    """The spans of local DAY (minutes from midnight, end exclusive) that PERIODS keep the location open.

    A split shift gives several spans; a period closing at or before it opens runs past midnight, so it
    opens DAY until midnight when it starts on DAY's weekday, and opens DAY from midnight when it started
    the day before (as `OpeningHours.covers` reads it).
    """
    yesterday = (day - timedelta(days=1)).weekday()
    spans: list[tuple[int, int]] = []
    for period in periods:
        opens, closes = _minutes(period.opens), _minutes(period.closes)
        if period.weekday == day.weekday():
            spans.append((opens, DAY_MINUTES if period.crosses_midnight else closes))
        if period.crosses_midnight and period.weekday == yesterday:
            spans.append((0, closes))
    return merge_minutes(spans)


def location_first_open_day(location: Location, today: date) -> date:
    """TODAY if LOCATION opens at any time of that local day, else the next day it does (TODAY if never)."""
    periods = list(location.opening_hours.all())
    for offset in range(OPEN_DAY_LOOKAHEAD):
        day = today + timedelta(days=offset)
        if open_minutes_on(periods, day):
            return day
    return today


def location_next_opening(location: Location, moment: datetime) -> datetime | None:
    """When LOCATION next opens after MOMENT (aware, in the location's zone); MOMENT itself when it is open
    then; None when it has no opening hours in the next OPEN_DAY_LOOKAHEAD days."""
    periods = list(location.opening_hours.all())
    zone = location.zone
    local = moment.astimezone(zone)
    if any(period.covers(local) for period in periods):
        return local
    minute_now = local.hour * 60 + local.minute
    for offset in range(OPEN_DAY_LOOKAHEAD + 1):
        day = local.date() + timedelta(days=offset)
        for start, _end in open_minutes_on(periods, day):
            if offset == 0 and start <= minute_now:
                continue
            opening = datetime.combine(day, time(start // 60, start % 60), tzinfo=zone)
            # A wall-clock time skipped by a spring-forward change resolves to the next valid instant.
            return opening.astimezone(zone)
    return None
