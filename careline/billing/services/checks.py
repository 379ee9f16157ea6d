"""Checks every billing service applies to what it is given: amounts in range, texts present and short."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from careline.billing.models import MAX_AMOUNT_CENTS


def amount_checked(value: Any, field: str, *, allow_zero: bool = False) -> int:
    """VALUE as cents: a whole number, more than zero (or zero when ALLOW_ZERO), at most MAX_AMOUNT_CENTS."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError({field: "An amount is a whole number of cents."})
    if value < 0 or (value == 0 and not allow_zero):
        raise ValidationError(
            {field: "Enter an amount more than zero." if not allow_zero else "An amount is never negative."}
        )
    if value > MAX_AMOUNT_CENTS:
        raise ValidationError({field: "That amount is larger than any one entry may be."})
    return value


def text_checked(value: str, field: str, max_chars: int, missing: str) -> str:
    """VALUE without surrounding blanks; ValidationError (MISSING) when empty, or when longer than MAX_CHARS."""
    cleaned = (value or "").strip()
    if not cleaned:
        raise ValidationError({field: missing})
    if len(cleaned) > max_chars:
        raise ValidationError({field: f"Keep it under {max_chars} characters."})
    return cleaned
