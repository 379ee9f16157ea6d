"""Times of day as a member of staff reads them: 24-hour ('14:05') or 12-hour ('2:05 PM'), by their own
choice (accounts' `User.time_format`, read here by its value so core names no higher app)."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from django.utils import timezone
from django.utils.dateformat import format as date_format


def clock_format(user: Any) -> str:
    """The date-format code of USER's time of day ('H:i' or 'g:i A'); 24-hour when unknown."""
    return "g:i A" if getattr(user, "time_format", "24h") == "12h" else "H:i"


def staff_clock(value: datetime, user: Any, zone: tzinfo | None = None) -> str:
    """VALUE's time of day in ZONE (default: the current zone) as USER reads times: '14:05' or '2:05 PM'."""
    return date_format(timezone.localtime(value, zone), clock_format(user))


def staff_when(value: datetime, user: Any, zone: tzinfo | None = None) -> str:
    """VALUE's day and time in ZONE as USER reads times: 'Mar 4, 14:05' or 'Mar 4, 2:05 PM'."""
    return date_format(timezone.localtime(value, zone), "M j, " + clock_format(user))
