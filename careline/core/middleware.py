"""Cross-cutting request handling: session lifetime, the two-factor gate and no-store caching."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.cache import patch_cache_control

SESSION_STARTED_KEY = "careline_started_at"
SESSION_SEEN_KEY = "careline_seen_at"
BACKGROUND_HEADER = "HTTP_X_CARELINE_BACKGROUND"

Handler = Callable[[HttpRequest], HttpResponse]


def _exempt(path: str) -> bool:
    return path.startswith((settings.STATIC_URL, "/api/", "/healthz"))


def session_expiry_reason(request: HttpRequest, now: float) -> str | None:
    """Why REQUEST's staff session has run out at NOW ("inactivity", "the maximum session length"), or None."""
    started = request.session.get(SESSION_STARTED_KEY, now)
    seen = request.session.get(SESSION_SEEN_KEY, now)
    if now - seen > settings.CARELINE_IDLE_TIMEOUT_MINUTES * 60:
        return "inactivity"
    if now - started > settings.CARELINE_SESSION_MAX_AGE_HOURS * 3600:
        return "the maximum session length"
    return None


def staff_session_is_current(request: HttpRequest) -> bool:
    """Whether REQUEST comes from an active staff member's session that the staff pages would let through:
    signed in, past two-factor sign-in when the account needs it, and neither idle nor too old.

    For paths the middlewares below leave alone (/api/), when one of them serves people as well as tokens.
    """
    user = request.user
    if not user.is_authenticated or not user.is_active:
        return False
    if getattr(user, "requires_mfa", False) and not user.is_verified():
        return False
    return session_expiry_reason(request, time.time()) is None


class SessionLifetimeMiddleware:
    """Sign staff out after CARELINE_IDLE_TIMEOUT_MINUTES idle, and after CARELINE_SESSION_MAX_AGE_HOURS in all.

    Requests a page makes on its own (polling, marked with the X-Careline-Background header) do not count
    as activity, so a screen left open still signs out.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and not _exempt(request.path):
            now = time.time()
            reason = session_expiry_reason(request, now)
            if reason is not None:
                from careline.core.audit import AuditAction, audit_record

                audit_record(request=request, action=AuditAction.LOGOUT, detail=f"automatic, after {reason}")
                logout(request)
                messages.info(request, f"You were signed out after {reason}. Please sign in again.")
                login_url = reverse(settings.LOGIN_URL)
                if getattr(request, "htmx", False):
                    response = HttpResponse(status=401)
                    response["HX-Redirect"] = login_url
                    return response
                return HttpResponseRedirect(f"{login_url}?next={request.get_full_path()}")
            request.session.setdefault(SESSION_STARTED_KEY, now)
            if not request.META.get(BACKGROUND_HEADER):
                request.session[SESSION_SEEN_KEY] = now
        return self.get_response(request)


class RequireTwoFactorMiddleware:
    """Staff who must use two-factor sign-in reach nothing but the two-factor pages until verified."""

    allowed_url_names = ("accounts:mfa_verify", "accounts:mfa_setup", "accounts:logout")

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not _exempt(request.path)
            and getattr(user, "requires_mfa", False)
            and not user.is_verified()
        ):
            allowed = {reverse(name) for name in self.allowed_url_names}
            if request.path not in allowed:
                target = "accounts:mfa_verify" if user.has_confirmed_totp else "accounts:mfa_setup"
                return HttpResponseRedirect(reverse(target))
        return self.get_response(request)


class NoStoreMiddleware:
    """Nothing Careline renders may be kept by a browser or proxy cache: pages show patient data."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith(settings.STATIC_URL):
            patch_cache_control(response, no_store=True, no_cache=True, private=True, max_age=0)
        return response
