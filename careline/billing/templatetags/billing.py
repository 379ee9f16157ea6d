"""Template filters of billing: `{{ cents|money:currency }}`."""

from __future__ import annotations

from django import template

from careline.billing.models import default_currency
from careline.billing.money import format_money

register = template.Library()


@register.filter
def money(cents: int | None, currency: str = "") -> str:
    """CENTS as people read them ("$12.50"), in CURRENCY (the clinic's by default)."""
    return format_money(int(cents or 0), currency or default_currency())


@register.filter
def name_of(names: dict[int, str] | None, patient_id: int | None) -> str:
    """The name of PATIENT_ID in NAMES (a combined statement's patients), '' when not there."""
    return (names or {}).get(patient_id or 0, "")
