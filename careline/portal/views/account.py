"""Signing in to the portal, Home, and choosing whose record and which language the portal shows."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.core.network import client_ip
from careline.portal.access import (
    ACCESS_KEY,
    LANGUAGE_KEY,
    PortalSession,
    portal_public_view,
    portal_session_of,
    portal_sign_out,
    portal_view,
)
from careline.portal.forms.account import PortalLanguageForm, PortalSignInForm
from careline.portal.home import home_cards
from careline.portal.models import PortalAccount

# Checked against a password when no account matches, so a miss takes as long as a wrong password.
_NO_ACCOUNT_HASH = make_password(None)


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    portal_root = reverse("portal:home")
    if (
        target.startswith(portal_root)
        and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
        and "?" not in target
    ):
        return target
    return fallback


def _account_for(kind: str, value: str) -> PortalAccount | None:
    return PortalAccount.objects.filter(**{kind: value}).first()


@portal_public_view
@require_http_methods(["GET", "POST"])
def signin(request: HttpRequest) -> HttpResponse:
    """The portal's sign-in page: email or mobile number and password. Never says which part was wrong.

    Wrong passwords are counted per sign-in name and per address (services/limits.py); past the limit the
    page says to wait or to sign in with a code. A right password on a device that is not trusted for the
    account (or on any device, for an account that asks every time) goes on to a one-time code.
    """
    from careline.portal.devices import device_is_trusted
    from careline.portal.models import CodePurpose
    from careline.portal.services import limits
    from careline.portal.services.codes import CodeRequest, portal_code_request
    from careline.portal.views.signin import code_pending_start, portal_signed_in

    if portal_session_of(request) is not None:
        return redirect(_safe_next(request, reverse("portal:home")))
    form = PortalSignInForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
    if request.method == "POST" and form.is_valid():
        kind, value = form.cleaned_data["identifier"]
        name, address = f"{kind}:{value}", client_ip(request)
        account = _account_for(kind, value)
        password = form.cleaned_data["password"]
        if limits.password_signin_blocked(name=name, address=address):
            audit_record(
                actor=Actor.system("portal-sign-in"),
                action=AuditAction.LOCKED_OUT,
                object_type="portal.portalaccount",
                object_id=account.pk if account is not None else "",
                detail="portal: too many wrong passwords",
            )
            form.add_error(
                None,
                _(
                    "Too many wrong passwords. Wait %(minutes)s minutes, sign in with a code instead, "
                    "or reset your password."
                )
                % {"minutes": settings.CARELINE_PORTAL_LOCKOUT_MINUTES},
            )
            status = 429
        elif account is None:
            PortalAccount(password=_NO_ACCOUNT_HASH).check_password(password)
        elif account.can_sign_in and account.check_password(password):
            limits.attempts_clear(kind="password_name", value=name)
            next_url = _safe_next(request, "")
            if device_is_trusted(request, account) and not account.always_ask_code:
                return portal_signed_in(request, account, how="password", next_url=next_url)
            issued = portal_code_request(
                kind=kind,
                contact=value,
                purpose=CodePurpose.SECOND_FACTOR,
                address=address,
                account=account,
            )
            if issued.outcome == CodeRequest.LIMITED:
                form.add_error(None, _("Too many codes were asked for. Wait an hour, or call the clinic."))
                status = 429
            else:
                code_pending_start(
                    request,
                    purpose=CodePurpose.SECOND_FACTOR,
                    kind=kind,
                    contact=value,
                    account=account,
                    next_url=next_url,
                    delivery=issued.delivery,
                )
                return redirect("portal:code_enter")
        if status == 400:
            limits.password_failure_record(name=name, address=address)
            audit_record(
                actor=Actor.system("portal-sign-in"),
                action=AuditAction.LOGIN_FAILED,
                object_type="portal.portalaccount",
                object_id=account.pk if account is not None else "",
                detail="portal",
            )
            form.add_error(None, _("That email or mobile number and password do not match an account."))
    return render(
        request,
        "portal/account/signin.html",
        {"form": form, "next": _safe_next(request, "")},
        status=status,
    )


@require_POST
def signout(request: HttpRequest) -> HttpResponse:
    """End the portal session (a POST, so a link elsewhere cannot sign a patient out)."""
    session = portal_session_of(request)
    if session is not None and session.access is not None:
        audit_record(actor=session.actor, action=AuditAction.LOGOUT, obj=session.account, detail="portal")
    portal_sign_out(request)
    return redirect("portal:signin")


@portal_view(needs_record=False)
def home(request: HttpRequest) -> HttpResponse:
    """Home: one card per thing waiting for the patient (next visit, unread messages, new results...)."""
    session: PortalSession = request.portal  # type: ignore[attr-defined]
    if session.access is None:
        return render(request, "portal/nothing_shared.html")
    cards = home_cards(session)
    audit_record(
        actor=session.actor,
        action=AuditAction.VIEW,
        obj=session.patient,
        patient_id=session.patient.pk,
        detail="portal home",
    )
    return render(request, "portal/account/home.html", {"cards": cards, "nav": "home"})


@require_POST
@portal_view(needs_record=False)
def switch_record(request: HttpRequest) -> HttpResponse:
    """Open another record this account may see (a caregiver with several patients)."""
    session: PortalSession = request.portal  # type: ignore[attr-defined]
    try:
        wanted = int(request.POST.get("access", ""))
    except ValueError:
        wanted = -1
    if not any(access.pk == wanted for access in session.accesses):
        return render(
            request,
            "portal/account/home.html",
            {"cards": [], "nav": "home", "error": _("That record is not shared with you.")},
            status=400,
        )
    request.session[ACCESS_KEY] = wanted
    return redirect("portal:home")


@portal_public_view
@require_POST
def choose_language(request: HttpRequest) -> HttpResponse:
    """Show the portal in another language for this session (the profile keeps the account's own)."""
    form = PortalLanguageForm(request.POST)
    if form.is_valid():
        request.session[LANGUAGE_KEY] = form.cleaned_data["language"]
    fallback = reverse("portal:home") if portal_session_of(request) else reverse("portal:signin")
    return HttpResponseRedirect(_safe_next(request, fallback))


LANGUAGE_NAMES = {"en": "English", "es": "Español"}


def language_options() -> list[tuple[str, str]]:
    """Each language the portal speaks, named in itself."""
    return [(code, LANGUAGE_NAMES.get(code, name)) for code, name in settings.LANGUAGES]
