"""Who is on the other end of a request: the client's address behind a configured number of proxies."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _address(raw: str) -> str | None:
    """RAW as a normalised IP address ("203.0.113.5", "2001:db8::1"), ports dropped; None if not one."""
    value = raw.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "203.0.113.5:1234"; a bare IPv6 address has several colons
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address: REMOTE_ADDR, or behind CARELINE_TRUSTED_PROXY_COUNT proxies the forwarded one.

    Each trusted proxy appends the address it received the request from to X-Forwarded-For, so with N
    proxies the client is the N-th entry from the right. Entries further left were written by the client
    and are never believed; with N = 0 the header is ignored altogether. A header with fewer than N valid
    entries means the request did not pass through every proxy, so the direct peer is used.
    """
    if request is None:
        return None
    peer = _address(request.META.get("REMOTE_ADDR", "") or "")
    trusted = settings.CARELINE_TRUSTED_PROXY_COUNT
    if trusted <= 0:
        return peer
    forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < trusted:
        return peer
    return _address(forwarded[-trusted]) or peer
