"""Sharing one's record with caregivers from the portal, and a caregiver accepting an invitation."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.patients.models import Caregiver, Patient
from careline.patients.services.registry import caregiver_create
from careline.portal.access import PortalSession, portal_public_view, portal_sign_in, portal_view
from careline.portal.forms.caregivers import (
    NEW_CAREGIVER,
    SECTION_LABELS,
    JoinForm,
    PortalGrantForm,
    end_of_day,
)
from careline.portal.queries.caregivers import caregiver_access_rows
from careline.portal.services.caregivers import (
    portal_caregiver_grant,
    portal_caregiver_revoke,
    portal_grant_invitation_accept,
    portal_grant_invitation_for,
)

JOIN_TOKEN_KEY = "portal_grant_token"  # noqa: S105 (a session key's name)


def _own(request: HttpRequest) -> tuple[PortalSession, Patient | None]:
    session: PortalSession = request.portal  # type: ignore[attr-defined]
    return session, session.account.patient


def _grant_form(patient: Patient, data: Any = None) -> PortalGrantForm:
    caregivers = [
        (str(c.pk), f"{c.name} ({c.relationship})") for c in patient.caregivers.filter(is_active=True)
    ]
    return PortalGrantForm(data, caregivers=caregivers)


def _page(
    request: HttpRequest, patient: Patient, form: PortalGrantForm | None = None, status: int = 200
) -> HttpResponse:
    session: PortalSession = request.portal  # type: ignore[attr-defined]
    rows = caregiver_access_rows(patient)
    audit_record(
        action=AuditAction.VIEW,
        actor=Actor.patient(patient.pk, request=request),
        obj=patient,
        patient_id=patient.pk,
        detail="portal caregivers",
    )
    names = dict(SECTION_LABELS)
    context = {
        "nav": "caregivers",
        "rows": [(row, [names[code] for code in row.sections]) for row in rows if row.has_access],
        "form": form or _grant_form(patient),
        "account": session.account,
    }
    return render(request, "portal/caregivers/caregivers.html", context, status=status)


@portal_view(needs_record=False)
@require_GET
def caregivers(request: HttpRequest) -> HttpResponse:
    """Who the patient shares their record with, and a form to share it with someone."""
    patient = _own(request)[1]
    if patient is None:
        return render(request, "portal/not_found.html", status=404)
    return _page(request, patient)


@require_POST
@portal_view(needs_record=False)
def caregiver_grant(request: HttpRequest) -> HttpResponse:
    """Share chosen sections with a caregiver on file or someone new (invited by a link)."""
    patient = _own(request)[1]
    if patient is None:
        return render(request, "portal/not_found.html", status=404)
    form = _grant_form(patient, request.POST)
    if not form.is_valid():
        return _page(request, patient, form, status=400)
    actor = Actor.patient(patient.pk, request=request)
    data = form.cleaned_data
    try:
        if data["caregiver"] == NEW_CAREGIVER:
            caregiver = caregiver_create(
                patient=patient,
                actor=actor,
                name=data["name"],
                relationship=data["relationship"],
                email=data["email"],
                phone=data["phone"],
            )
        else:
            caregiver = patient.caregivers.get(pk=int(data["caregiver"]), is_active=True)
        outcome = portal_caregiver_grant(
            patient=patient,
            caregiver=caregiver,
            sections=data["sections"],
            ends_at=end_of_day(data["ends_on"], patient.zone),
            actor=actor,
        )
    except ValidationError as error:
        for message in error.messages:
            form.add_error(None, message)
        return _page(request, patient, form, status=400)
    if outcome.invitation is not None:
        messages.success(request, _("We sent them a link to set up their access. It works for 72 hours."))
    else:
        messages.success(request, _("They can now see what you chose."))
    return redirect("portal:caregivers")


@require_POST
@portal_view(needs_record=False)
def caregiver_revoke(request: HttpRequest) -> HttpResponse:
    """Stop sharing the record with one caregiver."""
    patient = _own(request)[1]
    if patient is None:
        return render(request, "portal/not_found.html", status=404)
    try:
        caregiver = Caregiver.objects.get(pk=int(request.POST.get("caregiver", "")), patient=patient)
    except (ValueError, Caregiver.DoesNotExist):
        return render(request, "portal/not_found.html", status=404)
    portal_caregiver_revoke(
        patient=patient, caregiver=caregiver, actor=Actor.patient(patient.pk, request=request)
    )
    messages.success(request, _("You stopped sharing your record with %(name)s.") % {"name": caregiver.name})
    return redirect("portal:caregivers")


@portal_public_view
@require_GET
def caregiver_join_link(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the invitation: keep its token in the session and go on to a page whose URL has none."""
    request.session[JOIN_TOKEN_KEY] = token[:100]
    return redirect("portal:caregiver_join_page")


@portal_public_view
@require_http_methods(["GET", "POST"])
def caregiver_join(request: HttpRequest) -> HttpResponse:
    """A caregiver accepts a grant: sets a password (or gives their current one) and is signed in."""
    invitation = portal_grant_invitation_for(request.session.get(JOIN_TOKEN_KEY, ""))
    if invitation is None:
        # 200: a page that explains (the link's token says nothing of whose it was).
        return render(request, "portal/caregivers/join_invalid.html")
    form = JoinForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            account = portal_grant_invitation_accept(
                invitation=invitation,
                password=form.cleaned_data["password"],
                language=invitation.patient.language,
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error("password", message)
        else:
            request.session.pop(JOIN_TOKEN_KEY, None)
            portal_sign_in(request, account)
            return redirect("portal:home")
    # The invitee reads whose record is shared with them: on record, as that caregiver.
    audit_record(
        action=AuditAction.VIEW,
        actor=Actor.caregiver(invitation.caregiver_id, patient_id=invitation.patient_id, request=request),
        obj=invitation,
        patient_id=invitation.patient_id,
        detail="portal caregiver invitation",
    )
    context = {
        "form": form,
        "patient_name": invitation.patient.first_name,
        "sections": [name for code, name in SECTION_LABELS if code in invitation.sections],
    }
    return render(request, "portal/caregivers/join.html", context, status=400 if form.errors else 200)
