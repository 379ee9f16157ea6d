"""Sign-in, two-factor verification and setup, sign-out and the own profile page."""

from __future__ import annotations

import time
from base64 import b32encode
from typing import Any

import django_otp
import segno
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from careline.accounts import services
from careline.accounts.forms import LoginForm, PreferencesForm, TokenForm
from careline.accounts.models import User
from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.core.middleware import SESSION_SEEN_KEY, SESSION_STARTED_KEY

# Between a correct password and a correct code, the session holds who is signing in and since when.
PENDING_USER_KEY = "careline_mfa_pending_user"
PENDING_AT_KEY = "careline_mfa_pending_at"
PENDING_NEXT_KEY = "careline_mfa_pending_next"
PENDING_SECONDS = 5 * 60
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
WRONG_CODE_REASON = "wrong two-factor code"


def safe_next(request: HttpRequest, candidate: str | None) -> str:
    """CANDIDATE if it points into this site, else the default page after sign-in."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _start_session_clock(request: HttpRequest) -> None:
    now = time.time()
    request.session[SESSION_STARTED_KEY] = now
    request.session[SESSION_SEEN_KEY] = now


def _clear_pending(request: HttpRequest) -> None:
    for key in (PENDING_USER_KEY, PENDING_AT_KEY, PENDING_NEXT_KEY):
        request.session.pop(key, None)


def _confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """Email and password; people with an authenticator continue to the code page before they are in."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if request.user.is_authenticated and request.method == "GET":
        return HttpResponseRedirect(safe_next(request, next_url))
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        user = authenticate(request, username=email, password=form.cleaned_data["password"])
        if getattr(request, "axes_locked_out", False):
            # AxesMiddleware replaces this response with accounts/locked_out.html.
            return render(request, "accounts/login.html", {"form": form, "next": next_url}, status=429)
        if user is None:
            form.add_error(None, "The email address or password is not right.")
        elif isinstance(user, User) and _confirmed_device(user) is not None:
            request.session.cycle_key()
            request.session[PENDING_USER_KEY] = user.pk
            request.session[PENDING_AT_KEY] = time.time()
            request.session[PENDING_NEXT_KEY] = next_url
            return HttpResponseRedirect(resolve_url("accounts:mfa_verify"))
        else:
            login(request, user)  # rotates the session key
            _start_session_clock(request)
            if getattr(user, "requires_mfa", False):
                messages.info(
                    request, "Your role requires two-factor sign-in. Set up an authenticator app now."
                )
                return HttpResponseRedirect(resolve_url("accounts:mfa_setup"))
            return HttpResponseRedirect(safe_next(request, next_url))
    return render(request, "accounts/login.html", {"form": form, "next": next_url})


def _pending_user(request: HttpRequest) -> User | None:
    """The person who gave the right password and still owes a code, if still within the time allowed."""
    user_id = request.session.get(PENDING_USER_KEY)
    started = request.session.get(PENDING_AT_KEY)
    if user_id is None or started is None:
        return None
    if time.time() - float(started) > PENDING_SECONDS:
        _clear_pending(request)
        messages.warning(request, "That took too long. Please sign in again.")
        return None
    return User.objects.filter(pk=user_id, is_active=True).first()


@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def mfa_verify(request: HttpRequest) -> HttpResponse:
    """Second step of sign-in: a code from the authenticator app."""
    signed_in = request.user.is_authenticated
    user: User | None = (
        request.user if signed_in and isinstance(request.user, User) else _pending_user(request)
    )
    if user is None:
        return HttpResponseRedirect(resolve_url(settings.LOGIN_URL))
    if signed_in and request.user.is_verified():  # type: ignore[union-attr]
        return HttpResponseRedirect(safe_next(request, request.GET.get("next")))
    device = _confirmed_device(user)
    if device is None:
        if signed_in:
            return HttpResponseRedirect(resolve_url("accounts:mfa_setup"))
        _clear_pending(request)
        return HttpResponseRedirect(resolve_url(settings.LOGIN_URL))
    credentials = {"username": user.email}
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not AxesProxyHandler.is_allowed(request, credentials):
            # The account was locked meanwhile (e.g. by guesses elsewhere): the code no longer helps.
            _clear_pending(request)
            request.axes_locked_out = True  # type: ignore[attr-defined]
            return render(request, "accounts/mfa_verify.html", {"form": form}, status=429)
        allowed, throttle = device.verify_is_allowed()
        if not allowed:
            form.add_error(None, _throttle_message(throttle))
        elif django_otp.verify_token(user, device.persistent_id, form.cleaned_data["token"]) is None:
            # Counts toward the account lockout and goes to the audit trail as a failed sign-in.
            user_login_failed.send(
                sender=__name__,
                credentials={**credentials, "careline_reason": WRONG_CODE_REASON},
                request=request,
            )
            if getattr(request, "axes_locked_out", False):
                _clear_pending(request)
                return render(request, "accounts/mfa_verify.html", {"form": form}, status=429)
            form.add_error(
                "token", "That code is not right. Codes change every 30 seconds; try the current one."
            )
        else:
            next_url = request.session.get(PENDING_NEXT_KEY, "") or request.GET.get("next", "")
            if not signed_in:
                _clear_pending(request)
                login(request, user, backend=MODEL_BACKEND)  # rotates the session key
                _start_session_clock(request)
            django_otp.login(request, device)
            return HttpResponseRedirect(safe_next(request, next_url))
    return render(request, "accounts/mfa_verify.html", {"form": form, "pending_email": user.email})


def _throttle_message(throttle: dict[str, Any] | None) -> str:
    locked_until = (throttle or {}).get("locked_until")
    if locked_until is not None:
        from django.utils import timezone

        seconds = max(1, int((locked_until - timezone.now()).total_seconds()) + 1)
        return f"Too many wrong codes. Wait {seconds} seconds, then enter the current code."
    return "Too many wrong codes. Wait a little, then enter the current code."


def _qr_svg(device: TOTPDevice) -> str:
    # segno writes the SVG itself from the otpauth URL; nothing user-supplied is interpolated as markup.
    svg = segno.make(device.config_url, error="m").svg_inline(
        scale=5, border=2, title="QR code for your authenticator app"
    )
    return mark_safe(svg)


def _grouped_secret(device: TOTPDevice) -> str:
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@csrf_protect
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def mfa_setup(request: HttpRequest) -> HttpResponse:
    """Set up (or replace) one's authenticator app: scan the QR code, confirm with a first code."""
    user = request.user
    assert isinstance(user, User)
    if user.has_confirmed_totp and not user.is_verified():
        # Replacing an authenticator needs the current one: a password alone must not be enough.
        return HttpResponseRedirect(resolve_url("accounts:mfa_verify"))
    device = services.mfa_device_start(user=user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        allowed, throttle = device.verify_is_allowed()
        if not allowed:
            form.add_error(None, _throttle_message(throttle))
        elif not device.verify_token(form.cleaned_data["token"]):
            audit_record(request=request, action=AuditAction.MFA, obj=user, detail="setup code refused")
            form.add_error(
                "token", "That code is not right. Check the app shows “Careline” and try the current code."
            )
        else:
            services.mfa_device_confirm(device=device, actor=Actor.staff(device.user, request=request))
            django_otp.login(request, device)
            messages.success(
                request, "Two-factor sign-in is on. You will need your app each time you sign in."
            )
            return HttpResponseRedirect(resolve_url("accounts:profile"))
    context = {
        "form": form,
        "qr_svg": _qr_svg(device),
        "secret": _grouped_secret(device),
        "replacing": user.has_confirmed_totp,
        "nav": "profile",
    }
    return render(request, "accounts/mfa_setup.html", context)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """Sign out (POST only, so a link or an image cannot sign anyone out)."""
    was_signed_in = request.user.is_authenticated
    logout(request)  # flushes the session, pending two-factor state included
    if was_signed_in:
        messages.info(request, "You are signed out.")
    return HttpResponseRedirect(resolve_url(settings.LOGOUT_REDIRECT_URL))


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@csrf_protect
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    """Own details, display preferences, password change and the authenticator."""
    user = request.user
    assert isinstance(user, User)
    wants_preferences = request.method == "POST" and request.POST.get("form") == "preferences"
    preferences = PreferencesForm(
        request.POST if wants_preferences else None, initial={"time_format": user.time_format}
    )
    if wants_preferences and preferences.is_valid():
        services.staff_preferences_set(
            user=user,
            time_format=preferences.cleaned_data["time_format"],
            actor=Actor.staff(user, request=request),
        )
        messages.success(request, "Your preferences are saved.")
        return HttpResponseRedirect(resolve_url("accounts:profile"))
    form = PasswordChangeForm(user, None if wants_preferences else (request.POST or None))
    if request.method == "POST" and not wants_preferences and form.is_valid():
        services.password_change(
            user=user,
            new_password=form.cleaned_data["new_password1"],
            actor=Actor.staff(user, request=request),
        )
        update_session_auth_hash(request, user)  # keep this session; other sessions end
        messages.success(request, "Your password is changed.")
        return HttpResponseRedirect(resolve_url("accounts:profile"))
    context = {
        "form": form,
        "profile_user": user,
        "locations": list(user.locations.order_by("name")),
        "has_mfa": user.has_confirmed_totp,
        "preferences": preferences,
        "nav": "profile",
    }
    bad_preferences = wants_preferences and not preferences.is_valid()
    return render(request, "accounts/profile.html", context, status=400 if bad_preferences else 200)
