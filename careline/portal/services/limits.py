"""Rate limits of portal sign-in, counted in the database so every web process sees the same numbers.

Wrong passwords count per sign-in name (whatever was typed, an account or not, so the answer never tells
which) and per client address; codes asked for count per contact and per address. Each count is the rows
of one kind and key inside a window; the key is a keyed hash, so the table holds no email or number.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.crypto import salted_hmac

from careline.portal.models import AttemptKind, PortalAttempt

# Codes asked for from one address in an hour: a few people behind one clinic Wi-Fi, not a script.
CODES_PER_ADDRESS_PER_HOUR_FACTOR = 4


def attempt_key(value: str) -> str:
    """The keyed hash a counter is filed under for VALUE (a sign-in name, a contact or an address)."""
    return salted_hmac(
        "careline.portal.attempt", (value or "").strip().lower(), algorithm="sha256"
    ).hexdigest()


def attempts_count(*, kind: str, value: str, window: timedelta) -> int:
    """How many KIND events VALUE has had within the last WINDOW."""
    since = timezone.now() - window
    return PortalAttempt.objects.filter(kind=kind, key=attempt_key(value), at__gt=since).count()


def attempt_record(*, kind: str, value: str) -> None:
    """Count one KIND event for VALUE; rows older than a day of that key are dropped on the way."""
    key = attempt_key(value)
    now = timezone.now()
    PortalAttempt.objects.filter(kind=kind, key=key, at__lt=now - timedelta(days=1)).delete()
    PortalAttempt.objects.create(kind=kind, key=key, at=now)


def attempts_clear(*, kind: str, value: str) -> None:
    """Forget VALUE's KIND events (a correct password clears its name's count)."""
    PortalAttempt.objects.filter(kind=kind, key=attempt_key(value)).delete()


def _lockout_window() -> timedelta:
    return timedelta(minutes=settings.CARELINE_PORTAL_LOCKOUT_MINUTES)


def password_signin_blocked(*, name: str, address: str | None) -> bool:
    """Whether password sign-in for NAME, or from ADDRESS, has failed too often lately."""
    window = _lockout_window()
    if attempts_count(kind=AttemptKind.PASSWORD_NAME, value=name, window=window) >= (
        settings.CARELINE_PORTAL_SIGNIN_FAILURE_LIMIT
    ):
        return True
    return bool(address) and attempts_count(
        kind=AttemptKind.PASSWORD_ADDRESS, value=address or "", window=window
    ) >= (settings.CARELINE_PORTAL_ADDRESS_FAILURE_LIMIT)


def password_failure_record(*, name: str, address: str | None) -> None:
    """Count a wrong password for NAME from ADDRESS."""
    attempt_record(kind=AttemptKind.PASSWORD_NAME, value=name)
    if address:
        attempt_record(kind=AttemptKind.PASSWORD_ADDRESS, value=address)


def codes_blocked(*, contact: str, address: str | None) -> bool:
    """Whether CONTACT (or ADDRESS) has asked for as many codes as an hour allows."""
    hour = timedelta(hours=1)
    limit = settings.CARELINE_PORTAL_CODES_PER_HOUR
    if attempts_count(kind=AttemptKind.CODE_SENT, value=contact, window=hour) >= limit:
        return True
    return bool(address) and attempts_count(
        kind=AttemptKind.CODE_ADDRESS, value=address or "", window=hour
    ) >= (limit * CODES_PER_ADDRESS_PER_HOUR_FACTOR)


def code_request_record(*, contact: str, address: str | None) -> None:
    """Count a code asked for CONTACT from ADDRESS (whether or not an account uses CONTACT)."""
    attempt_record(kind=AttemptKind.CODE_SENT, value=contact)
    if address:
        attempt_record(kind=AttemptKind.CODE_ADDRESS, value=address)
