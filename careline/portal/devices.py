"""Trusted devices: a signed, long-lived cookie naming the accounts that passed a one-time code here.

Signing in with a password from a device the cookie does not name for the account asks for a code (the
second factor); a device it names signs in with the password alone, unless the account asks for a code
every time. The cookie carries the account's session generation, so "sign out everywhere" and a new
password forget every trusted device too.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse

from careline.portal.models import PortalAccount

DEVICE_COOKIE = "careline_portal_device"
DEVICE_SALT = "careline.portal.trusted-device"
MAX_ACCOUNTS_PER_DEVICE = 5


def _entries(request: HttpRequest) -> list[list[int]]:
    raw = request.COOKIES.get(DEVICE_COOKIE, "")
    if not raw:
        return []
    try:
        value = signing.loads(
            raw, salt=DEVICE_SALT, max_age=settings.CARELINE_PORTAL_TRUSTED_DEVICE_DAYS * 24 * 3600
        )
    except signing.BadSignature:
        return []
    if not isinstance(value, list):
        return []
    return [entry for entry in value if isinstance(entry, list) and len(entry) == 2]


def device_is_trusted(request: HttpRequest, account: PortalAccount) -> bool:
    """Whether REQUEST's device passed a code for ACCOUNT (at its current session generation)."""
    return [account.pk, account.session_generation] in _entries(request)


def device_trust(request: HttpRequest, response: HttpResponse, account: PortalAccount) -> None:
    """Remember on RESPONSE that this device is ACCOUNT's trusted one."""
    entries = [entry for entry in _entries(request) if entry[0] != account.pk]
    entries = [[account.pk, account.session_generation], *entries][:MAX_ACCOUNTS_PER_DEVICE]
    response.set_cookie(
        DEVICE_COOKIE,
        signing.dumps(entries, salt=DEVICE_SALT),
        max_age=settings.CARELINE_PORTAL_TRUSTED_DEVICE_DAYS * 24 * 3600,
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
        path="/portal/",
    )
