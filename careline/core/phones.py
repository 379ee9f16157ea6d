"""Phone numbers: parsed with `phonenumbers`, stored in E.164, shown in the national format."""

from __future__ import annotations

import functools

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError

MOBILE = "mobile"
LANDLINE = "landline"
UNKNOWN = "unknown"


def parse_phone(raw: str, *, region: str | None = None) -> str:
    """E.164 form of RAW, written in any usual format; ValidationError with a clear message otherwise."""
    text = (raw or "").strip()
    if not text:
        raise ValidationError("Enter a phone number.", code="required")
    try:
        number = phonenumbers.parse(text, region or settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise ValidationError(
            "“%(value)s” is not a phone number. Include the area code, or start with + and the country code.",
            code="invalid",
            params={"value": text[:40]},
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            "“%(value)s” is not a valid phone number for %(region)s.",
            code="invalid",
            params={
                "value": text[:40],
                "region": phonenumbers.region_code_for_number(number) or "any country",
            },
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def try_parse_phone(raw: str, *, region: str | None = None) -> str | None:
    """E.164 form of RAW, or None when it is not a phone number (for search boxes)."""
    try:
        return parse_phone(raw, region=region)
    except ValidationError:
        return None


def phone_kind(e164: str) -> str:
    """mobile, landline or unknown, from the numbering plan (a carrier lookup can refine it later)."""
    number_type = phonenumbers.number_type(phonenumbers.parse(e164, None))
    if number_type == phonenumbers.PhoneNumberType.MOBILE:
        return MOBILE
    if number_type == phonenumbers.PhoneNumberType.FIXED_LINE:
        return LANDLINE
    return UNKNOWN


def format_phone(e164: str) -> str:
    """A stored number as people write it: national format at home, international otherwise."""
    if not e164:
        return ""
    return _format_phone(e164, settings.PHONE_DEFAULT_REGION)


@functools.lru_cache(maxsize=4096)
def _format_phone(e164: str, home: str) -> str:
    """format_phone for the home region HOME, remembered (lists format the same numbers on every page)."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if phonenumbers.region_code_for_number(number) == home:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
