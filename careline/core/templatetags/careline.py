"""Template helpers shared by every app."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template

from careline.core.phones import format_phone
from careline.core.times import staff_clock, staff_when

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


@register.filter(name="clock")
def clock_filter(value: datetime | None, user: Any = None) -> str:
    """A time of day in USER's format, in the current zone: '14:05' or '2:05 PM' ({{ at|clock:user }})."""
    return "" if value is None else staff_clock(value, user)


@register.filter(name="when")
def when_filter(value: datetime | None, user: Any = None) -> str:
    """A day and time in USER's format, in the current zone: 'Mar 4, 14:05' or 'Mar 4, 2:05 PM'."""
    return "" if value is None else staff_when(value, user)
