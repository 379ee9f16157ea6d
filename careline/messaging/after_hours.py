"""Whether a location is closed now, and when the current closed period began (to answer once per period)."""

from __future__ import annotations

from datetime import datetime, timedelta

from careline.locations.models import Location


def closed_period_start(location: Location, moment: datetime) -> datetime | None:
    """None when LOCATION is open at MOMENT; otherwise when it last closed (within the past 8 days).

    A location with no opening hours at all is treated as never closed (no after-hours replies).
    """
    hours = list(location.opening_hours.all())
    if not hours or any(period.covers(moment.astimezone(location.zone)) for period in hours):
        return None
    zone = location.zone
    local = moment.astimezone(zone)
    latest: datetime | None = None
    for back in range(0, 9):
        day = (local - timedelta(days=back)).date()
        for period in hours:
            if period.weekday != day.weekday():
                continue
            close_day = day + timedelta(days=1) if period.crosses_midnight else day
            closes = datetime.combine(close_day, period.closes, tzinfo=zone)
            if closes <= local and (latest is None or closes > latest):
                latest = closes
        if latest is not None:
            break
    return latest if latest is not None else local - timedelta(days=8)
