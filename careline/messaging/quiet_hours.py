"""Quiet hours: automated texts go out only inside the patient's local texting window."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings

from careline.locations.models import Location

if TYPE_CHECKING:
    from careline.messaging.models import MessagingPolicy


def texting_window(location: Location | None) -> tuple[time, time]:
    """The location's own window when it set one (MessagingPolicy), else CARELINE_TEXTING_WINDOW."""
    policy = getattr(location, "messaging_policy", None) if location is not None else None
    return policy_window(policy)


def policy_window(policy: MessagingPolicy | None) -> tuple[time, time]:
    """The window POLICY sets, or the clinic-wide CARELINE_TEXTING_WINDOW it inherits."""
    if policy is not None and policy.window_start is not None and policy.window_end is not None:
        return policy.window_start, policy.window_end
    window: tuple[time, time] = settings.CARELINE_TEXTING_WINDOW
    return window


def window_release_at(moment: datetime, zone: ZoneInfo, window: tuple[time, time]) -> datetime | None:
    """None when MOMENT is inside the window in ZONE; otherwise the (aware) moment the window next opens.

    Computed on local wall-clock dates and converted back, so it is right across daylight-saving changes.
    """
    start, end = window
    local = moment.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if start <= clock < end:
        return None
    day = local.date() if clock < start else local.date() + timedelta(days=1)
    opening = datetime.combine(day, start, tzinfo=zone)
    # A wall-clock time skipped by a spring-forward change resolves to the next valid instant.
    return opening.astimezone(ZoneInfo("UTC"))


def window_last_open_before(moment: datetime, zone: ZoneInfo, window: tuple[time, time]) -> datetime | None:
    """The latest moment at or before MOMENT inside the window (for messages that must go before a time)."""
    start, end = window
    local = moment.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if start <= clock < end:
        return moment
    day = local.date() if clock >= end else local.date() - timedelta(days=1)
    last = datetime.combine(day, end, tzinfo=zone) - timedelta(minutes=1)
    return last.astimezone(ZoneInfo("UTC"))
