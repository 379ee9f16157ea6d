"""Amounts as people type and read them, to and from integer cents (never floats)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError

from careline.billing.models import MAX_AMOUNT_CENTS

# How each currency is written; others are written "12.34 EUR".
SYMBOLS = {"USD": "$", "CAD": "$", "AUD": "$", "GBP": "£", "EUR": "€"}


def format_money(cents: int, currency: str) -> str:
    """CENTS of CURRENCY as people read them: "$1,234.50" ("-$5.00" below zero)."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    number = f"{whole:,}.{part:02d}"
    symbol = SYMBOLS.get(currency)
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {currency}"


def parse_money(text: str) -> int:
    """Cents of an amount typed as "12", "12.5", "$1,234.50"; ValidationError for anything else."""
    cleaned = (text or "").strip().replace(",", "").lstrip("$£€").strip()
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValidationError("Enter an amount such as 25.00.") from None
    if not amount.is_finite() or amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValidationError("Enter an amount with at most two decimals, such as 25.50.")
    cents = int(amount * 100)
    if cents > MAX_AMOUNT_CENTS or cents < -MAX_AMOUNT_CENTS:
        raise ValidationError(f"Enter an amount up to {format_money(MAX_AMOUNT_CENTS, 'USD')[1:]}.")
    return cents
