"""Time within opening hours: a business clock counting the seconds a location was open since a fixed Monday,
from its weekly opening hours in its own zone (holidays are not known to Careline), so a text at 17:55
answered at 08:05 the next morning took ten minutes."""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

from careline.locations.models import OpeningHours

WEEK_SECONDS = 7 * 24 * 3600
MONDAY_OFFSET = 3 * 24 * 3600  # 1970-01-01 was a Thursday: this makes the weeks start on Monday


def week_spans(periods: list[OpeningHours]) -> list[tuple[int, int]]:
    """The location's open spans of a week in seconds from Monday 00:00 (merged, end exclusive); the whole
    week when it has no opening hours (then every second counts)."""
    spans: list[tuple[int, int]] = []
    for period in periods:
        start = period.weekday * 86400 + period.opens.hour * 3600 + period.opens.minute * 60
        closes = period.closes.hour * 3600 + period.closes.minute * 60
        opens = period.opens.hour * 3600 + period.opens.minute * 60
        length = closes - opens if closes > opens else 86400 - opens + closes
        end = start + length
        if end > WEEK_SECONDS:
            spans.extend([(start, WEEK_SECONDS), (0, end - WEEK_SECONDS)])
        else:
            spans.append((start, end))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged or [(0, WEEK_SECONDS)]


def business_seconds(moment: datetime, *, zone: ZoneInfo, spans: list[tuple[int, int]]) -> float:
    """Seconds the location was open from the fixed Monday to MOMENT (local wall clock)."""
    local = moment.astimezone(zone).replace(tzinfo=None)
    x = (local - datetime(1970, 1, 1)).total_seconds() + MONDAY_OFFSET
    weeks = math.floor(x / WEEK_SECONDS)
    tow = x - weeks * WEEK_SECONDS
    open_per_week = sum(end - start for start, end in spans)
    return weeks * open_per_week + sum(max(0.0, min(tow - start, end - start)) for start, end in spans)


def business_seconds_sql(x: str, spans: list[tuple[int, int]]) -> str:
    """The PostgreSQL expression of business_seconds for X, a column of local seconds since the fixed Monday.

    The spans are integers Careline computed, written into the SQL as numbers."""
    weeks = f"floor({x} / {WEEK_SECONDS})"
    tow = f"({x} - {weeks} * {WEEK_SECONDS})"
    open_per_week = sum(end - start for start, end in spans)
    parts = [f"GREATEST(0, LEAST({tow} - {int(start)}, {int(end - start)}))" for start, end in spans]
    return f"({weeks} * {int(open_per_week)} + {' + '.join(parts)})"
