"""Staff grant and revoke a caregiver's portal access from the patient page, with the patient's permission
recorded (who recorded it and when are kept on the access)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_patient_access
from careline.core.permissions import Perm, require_perm
from careline.patients.models import Caregiver
from careline.patients.queries import patient_for_user
from careline.portal.forms.caregivers import StaffGrantForm, end_of_day
from careline.portal.services.caregivers import portal_caregiver_grant, portal_caregiver_revoke


@require_perm(Perm.PATIENT_EDIT)
@require_http_methods(["GET", "POST"])
def caregiver_grant(request: HttpRequest, pk: int, caregiver_pk: int) -> HttpResponse:
    """Grant a caregiver on file chosen sections of the patient's record in the portal, until a date."""
    patient = patient_for_user(request.user, pk, Perm.PATIENT_EDIT)
    caregiver = get_object_or_404(Caregiver, pk=caregiver_pk, patient=patient, is_active=True)
    form = StaffGrantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            outcome = portal_caregiver_grant(
                patient=patient,
                caregiver=caregiver,
                sections=form.cleaned_data["sections"],
                ends_at=end_of_day(form.cleaned_data["ends_on"], patient.zone),
                actor=Actor.from_request(request),
                permission_recorded_by=request.user,
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            messages.success(
                request,
                "Portal access granted."
                if outcome.access is not None
                else "The caregiver has no portal account yet: an invitation link was sent to them.",
            )
            return HttpResponseRedirect(reverse("patients:detail", args=[patient.pk]))
    audit_patient_access(
        request=request,
        action=AuditAction.VIEW,
        patient_id=patient.pk,
        obj=caregiver,
        detail="portal access form",
    )
    context = {"patient": patient, "caregiver": caregiver, "form": form, "nav": "patients"}
    return render(request, "portal/staff/caregiver_grant.html", context, status=400 if form.errors else 200)


@require_perm(Perm.PATIENT_EDIT)
@require_POST
def caregiver_revoke(request: HttpRequest, pk: int, caregiver_pk: int) -> HttpResponse:
    """Close a caregiver's portal access to the patient's record (and withdraw a pending invitation)."""
    patient = patient_for_user(request.user, pk, Perm.PATIENT_EDIT)
    caregiver = get_object_or_404(Caregiver, pk=caregiver_pk, patient=patient)
    closed = portal_caregiver_revoke(patient=patient, caregiver=caregiver, actor=Actor.from_request(request))
    messages.success(request, "Portal access revoked." if closed else "There was no portal access to revoke.")
    return HttpResponseRedirect(reverse("patients:detail", args=[patient.pk]))
