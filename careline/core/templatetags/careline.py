"""Template helpers shared by every app."""

from __future__ import annotations

from typing import Any

from django import template

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
