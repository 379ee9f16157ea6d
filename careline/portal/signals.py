"""Receivers the portal connects at start-up."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from careline.portal.access import PORTAL_KEYS


def portal_keys_drop_on_staff_sign_in(sender: Any, request: HttpRequest | None = None, **_: Any) -> None:
    """A staff member signed in: no portal key stays in the session (one browser, one kind of person)."""
    if request is not None and hasattr(request, "session"):
        for key in PORTAL_KEYS:
            request.session.pop(key, None)
