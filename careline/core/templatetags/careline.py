"""Template helpers shared by every app."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format

from careline.core.phones import format_phone

register = template.Library()


@register.filter(name="phone")
def phone_filter(value: str) -> str:
    """Show an E.164 number the way people write it."""
    return format_phone(value)


@register.simple_tag(takes_context=True)
def can(context: template.Context, perm: str) -> bool:
    """Whether the signed-in person holds PERM: {% can 'patient.edit' as may_edit %}."""
    granted: Any = context.get("perms_granted", frozenset())
    return perm in granted


# Times shown to staff follow their own choice (accounts' User.time_format: "24h" or "12h"), in the
# current time zone (a page sets it with {% timezone %}). Core names the preference by its value only.
def _clock_format(user: Any) -> str:
    return "g:i A" if getattr(user, "time_format", "24h") == "12h" else "H:i"


@register.filter(name="clock")
def clock_filter(value: datetime | None, user: Any = None) -> str:
    """A time of day in USER's format: '14:05' or '2:05 PM' ({{ message.created_at|clock:user }})."""
    if value is None:
        return ""
    return date_format(timezone.localtime(value), _clock_format(user))


@register.filter(name="when")
def when_filter(value: datetime | None, user: Any = None) -> str:
    """A day and time in USER's format: 'Mar 4, 14:05' or 'Mar 4, 2:05 PM'."""
    if value is None:
        return ""
    return date_format(timezone.localtime(value), "M j, " + _clock_format(user))
