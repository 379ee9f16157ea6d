"""Getting into the portal without a password: invitations, one-time codes (sign-in, second step, reset).

Every answer a signed-out visitor gets is the same whether or not an account uses the email or number they
typed. The steps in between keep what they need in the session (which invitation was proven, which contact
a code went to), never in the URL.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.core.network import client_ip
from careline.portal.access import (
    PortalSession,
    portal_public_view,
    portal_session_of,
    portal_sign_in,
    portal_view,
)
from careline.portal.devices import device_trust
from careline.portal.forms.signin import (
    CodeForm,
    ContactForm,
    IdentityForm,
    InvitationSetupForm,
    NewPasswordForm,
    SignInSettingsForm,
)
from careline.portal.models import CodePurpose, PortalAccount, PortalInvitation
from careline.portal.services.codes import CodeRequest, account_actor, portal_code_request, portal_code_verify
from careline.portal.services.delivery import DeliveryOutcome
from careline.portal.services.invitations import (
    ContactTaken,
    portal_invitation_accept,
    portal_invitation_find,
    portal_invitation_identity_check,
)

PENDING_KEY = "portal_pending_code"  # {purpose, kind, contact, account, next, at, undelivered}
INVITE_KEY = "portal_invitation"  # {id, at}: the invitation whose identity check passed
RESET_KEY = "portal_reset"  # {account, at}: the account whose reset code passed
STEP_SECONDS = 15 * 60  # a step left longer than this starts again


def _fresh(request: HttpRequest, key: str) -> dict[str, Any] | None:
    value = request.session.get(key)
    if not isinstance(value, dict) or time.time() - float(value.get("at", 0)) > STEP_SECONDS:
        request.session.pop(key, None)
        return None
    return value


def _limited_message() -> str:
    return _("Too many codes were asked for this email or number. Wait an hour, or call the clinic for help.")


def code_pending_start(
    request: HttpRequest,
    *,
    purpose: str,
    kind: str,
    contact: str,
    account: PortalAccount | None = None,
    next_url: str = "",
    delivery: DeliveryOutcome | None = None,
) -> None:
    """Remember which code the next page asks for (and whether it could not be sent, for those who may know)."""
    request.session[PENDING_KEY] = {
        "purpose": purpose,
        "kind": kind,
        "contact": contact,
        "account": account.pk if account is not None else None,
        "next": next_url,
        "at": time.time(),
        "undelivered": bool(delivery is not None and not delivery.went),
    }


def portal_signed_in(
    request: HttpRequest, account: PortalAccount, *, how: str, trust: bool = False, next_url: str = ""
) -> HttpResponse:
    """Start ACCOUNT's session (audited), optionally trust this device, and go on to NEXT_URL or Home."""
    portal_sign_in(request, account)
    for key in (PENDING_KEY, INVITE_KEY, RESET_KEY):
        request.session.pop(key, None)
    audit_record(
        actor=account_actor(account, request=request),
        action=AuditAction.LOGIN,
        obj=account,
        patient_id=account.patient_id,
        detail=f"portal ({how})",
    )
    response = redirect(next_url or reverse("portal:home"))
    if trust:
        device_trust(request, response, account)
    return response


# --- invitations ----------------------------------------------------------------------------------------


def _invitation_unusable(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/signin/invite_unusable.html", status=404)


@portal_public_view
@require_http_methods(["GET", "POST"])
def invite(request: HttpRequest, token: str) -> HttpResponse:
    """An invitation's link: the patient proves who they are with their date of birth and last name."""
    invitation = portal_invitation_find(token)
    session = portal_session_of(request)
    if session is not None:
        # Signed in already: one's own invitation goes Home; anyone else's is not theirs to open.
        if invitation is not None and invitation.patient_id == session.account.patient_id:
            return redirect("portal:home")
        return render(request, "portal/not_found.html", status=404)
    if invitation is None or not invitation.is_usable:
        return _invitation_unusable(request)
    form = IdentityForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        right = portal_invitation_identity_check(
            invitation=invitation,
            date_of_birth=form.cleaned_data["date_of_birth"],
            last_name=form.cleaned_data["last_name"],
            actor=Actor.system("portal-invitation"),
        )
        if right:
            request.session.cycle_key()
            request.session[INVITE_KEY] = {"id": invitation.pk, "at": time.time()}
            return redirect("portal:invite_setup")
        invitation.refresh_from_db()
        if not invitation.is_usable:
            return _invitation_unusable(request)
        form.add_error(
            None,
            _("Those details do not match the invitation. After five wrong tries the link stops working."),
        )
    return render(
        request,
        "portal/signin/invite.html",
        {"form": form, "token": token},
        status=400 if form.errors else 200,
    )


def _invitation_contact(invitation: PortalInvitation) -> str:
    from careline.messaging.outbound.policy import patient_sms_number

    patient = invitation.patient
    number = patient_sms_number(patient)
    if invitation.channel == "email" and patient.email:
        return patient.email
    return number or patient.email or ""


@portal_public_view
@require_http_methods(["GET", "POST"])
def invite_setup(request: HttpRequest) -> HttpResponse:
    """After the identity check: how to sign in (prefilled from the record) and a password; then signed in."""
    step = _fresh(request, INVITE_KEY)
    invitation = (
        PortalInvitation.objects.select_related("patient").filter(pk=step["id"]).first() if step else None
    )
    if invitation is None or not invitation.is_usable:
        return _invitation_unusable(request)
    patient = invitation.patient
    probe = PortalAccount(display_name=patient.first_name)
    if request.method == "POST":
        form = InvitationSetupForm(request.POST, account=probe)
    else:
        form = InvitationSetupForm(initial={"identifier": _invitation_contact(invitation)}, account=probe)
    if request.method == "POST" and form.is_valid():
        kind, contact = form.cleaned_data["identifier"]
        try:
            account = portal_invitation_accept(
                invitation=invitation,
                password=form.cleaned_data["password1"],
                contact_kind=kind,
                contact=contact,
                request_actor=Actor.patient(patient.pk, request=request),
            )
        except ContactTaken:
            form.add_error(
                "identifier",
                _("This email or number cannot be used to sign in here. Choose another, or call the clinic."),
            )
        except ValueError:
            return _invitation_unusable(request)
        else:
            return portal_signed_in(request, account, how="invitation", trust=True)
    return render(
        request,
        "portal/signin/invite_setup.html",
        {"form": form, "first_name": patient.first_name},
        status=400 if form.errors else 200,
    )


# --- one-time codes -------------------------------------------------------------------------------------


def _code_request_page(request: HttpRequest, *, purpose: str, template: str) -> HttpResponse:
    form = ContactForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            kind, contact = form.cleaned_data["identifier"]
            issued = portal_code_request(
                kind=kind, contact=contact, purpose=purpose, address=client_ip(request)
            )
            if issued.outcome == CodeRequest.LIMITED:
                form.add_error(None, _limited_message())
                status = 429
            else:
                code_pending_start(request, purpose=purpose, kind=kind, contact=contact)
                return redirect("portal:code_enter")
    return render(request, template, {"form": form}, status=status)


@portal_public_view
@require_http_methods(["GET", "POST"])
def code_request(request: HttpRequest) -> HttpResponse:
    """Sign in without a password: a code by text or email to the contact the account signs in by."""
    if portal_session_of(request) is not None:
        return redirect("portal:home")
    return _code_request_page(
        request, purpose=CodePurpose.SIGN_IN, template="portal/signin/code_request.html"
    )


@portal_public_view
@require_http_methods(["GET", "POST"])
def reset_request(request: HttpRequest) -> HttpResponse:
    """Forgot the password: a code to the contact the account signs in by, then a new password."""
    return _code_request_page(request, purpose=CodePurpose.RESET, template="portal/signin/reset_request.html")


@portal_public_view
@require_http_methods(["GET", "POST"])
def code_enter(request: HttpRequest) -> HttpResponse:
    """Type the code that was sent. Wrong, expired or never sent all read the same."""
    pending = _fresh(request, PENDING_KEY)
    if pending is None:
        return redirect("portal:signin")
    purpose = pending["purpose"]
    form = CodeForm(request.POST if request.method == "POST" else None)
    if purpose == CodePurpose.RESET:
        del form.fields["trust_device"]
    if request.method == "POST" and form.is_valid():
        row = portal_code_verify(contact=pending["contact"], purpose=purpose, code=form.cleaned_data["code"])
        account = row.account if row is not None else None
        if account is not None and pending.get("account") not in (None, account.pk):
            account = None  # a second step answered for another account than the password's
        if account is not None and purpose == CodePurpose.RESET and account.is_active:
            request.session.pop(PENDING_KEY, None)
            request.session.cycle_key()
            request.session[RESET_KEY] = {"account": account.pk, "at": time.time()}
            return redirect("portal:reset_password")
        if account is not None and account.can_sign_in:
            how = "code" if purpose == CodePurpose.SIGN_IN else "password and code"
            return portal_signed_in(
                request,
                account,
                how=how,
                trust=bool(form.cleaned_data.get("trust_device")),
                next_url=pending.get("next") or "",
            )
        form.add_error("code", _("That code is not right, or it has expired. Ask for a new code."))
    context = {
        "form": form,
        "purpose": purpose,
        "by_text": pending["kind"] == "phone",
        "undelivered": pending.get("undelivered", False),
        "minutes": settings.CARELINE_PORTAL_CODE_MINUTES,
    }
    return render(request, "portal/signin/code_enter.html", context, status=400 if form.errors else 200)


@portal_public_view
@require_http_methods(["GET", "POST"])
def reset_password(request: HttpRequest) -> HttpResponse:
    """After a reset code: the new password; every other session ends, and this one is signed in."""
    step = _fresh(request, RESET_KEY)
    account = PortalAccount.objects.filter(pk=step["account"]).first() if step else None
    if account is None or not account.is_active or account.locked_at is not None:
        request.session.pop(RESET_KEY, None)
        return redirect("portal:reset")
    form = NewPasswordForm(request.POST if request.method == "POST" else None, account=account)
    if request.method == "POST" and form.is_valid():
        account.set_password(form.cleaned_data["password1"])
        account.session_generation += 1
        account.save(update_fields=["password", "session_generation"])
        audit_record(
            actor=account_actor(account, request=request),
            action=AuditAction.UPDATE,
            obj=account,
            patient_id=account.patient_id,
            detail="portal password reset by code",
        )
        return portal_signed_in(request, account, how="new password")
    return render(
        request, "portal/signin/reset_password.html", {"form": form}, status=400 if form.errors else 200
    )


@portal_view(needs_record=False)
@require_http_methods(["GET", "POST"])
def security(request: HttpRequest) -> HttpResponse:
    """How this account signs in: ask for a one-time code at every sign-in, or only on a new device."""
    session: PortalSession = request.portal  # type: ignore[attr-defined]
    account = session.account
    form = SignInSettingsForm(
        request.POST if request.method == "POST" else None,
        initial={"always_ask_code": account.always_ask_code},
    )
    saved = False
    if request.method == "POST" and form.is_valid():
        wanted = form.cleaned_data["always_ask_code"]
        if wanted != account.always_ask_code:
            PortalAccount.objects.filter(pk=account.pk).update(always_ask_code=wanted)
            audit_record(
                actor=account_actor(account, request=request),
                action=AuditAction.MFA,
                obj=account,
                patient_id=account.patient_id,
                detail=f"portal: always ask for a code {'on' if wanted else 'off'}",
            )
        saved = True
    return render(request, "portal/signin/security.html", {"form": form, "saved": saved})
