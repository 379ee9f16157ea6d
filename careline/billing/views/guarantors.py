"""The patient's guarantor on their billing pages: who pays their bills from when, its history, set or end it
(billing staff; audited)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from careline.billing.forms import GuarantorForm, errors_text
from careline.billing.services.guarantors import (
    dependants_of,
    guarantor_end,
    guarantor_history,
    guarantor_of,
    guarantor_set,
)
from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_patient_access
from careline.core.permissions import Perm, has_perm, require_perm
from careline.patients.models import Patient
from careline.patients.queries import patient_for_user, patients_visible_to


def guarantor_context(patient: Patient) -> dict[str, Any]:
    """The ledger's guarantor card: who pays now, and whose bills this patient pays."""
    dependants = list(Patient.objects.filter(pk__in=dependants_of(patient.pk)).order_by("pk"))
    return {"guarantor": guarantor_of(patient.pk), "dependants": dependants}


def _apply(request: HttpRequest, patient: Patient, form: GuarantorForm) -> bool:
    data = form.cleaned_data
    actor = Actor.from_request(request)
    try:
        if data["action"] == "end":
            guarantor_end(patient=patient, ends_on=data["on"], actor=actor)
            messages.success(request, "The patient pays their own bills again.")
            return True
        found = patients_visible_to(request.user).filter(mrn__iexact=data["guarantor_mrn"].strip()).first()
        if found is None:
            form.add_error("guarantor_mrn", "No patient you may see has that MRN.")
            return False
        guarantor_set(
            patient=patient, guarantor=found, starts_on=data["on"], relationship=data["relationship"],
            actor=actor,
        )  # fmt: skip
    except ValidationError as error:
        form.add_error(None, errors_text(error))
        return False
    messages.success(request, f"{found.display_name} is the guarantor from {data['on'].isoformat()}.")
    return True


@require_perm(Perm.BILLING_VIEW)
@require_http_methods(["GET", "POST"])
def guarantor(request: HttpRequest, pk: int) -> HttpResponse:
    """The patient's guarantor now and before; POST (billing.record) sets a new one or ends the current one."""
    patient = patient_for_user(request.user, pk, Perm.BILLING_VIEW)
    may_record = has_perm(request.user, Perm.BILLING_RECORD)
    today = timezone.localdate(timezone=patient.zone)
    status = 200
    set_form = GuarantorForm(initial={"action": "set", "on": today}, prefix="set")
    end_form = GuarantorForm(initial={"action": "end", "on": today}, prefix="end")
    if request.method == "POST":
        if not may_record:
            return HttpResponse("You may not change who pays this patient's bills.", status=403)
        patient = patient_for_user(request.user, pk, Perm.BILLING_RECORD)
        ending = request.POST.get("end-action") == "end"
        form = GuarantorForm(request.POST, prefix="end" if ending else "set")
        if form.is_valid() and _apply(request, patient, form):
            return redirect("billing:ledger", pk=patient.pk)
        status = 400
        if ending:
            end_form = form
        else:
            set_form = form
    audit_patient_access(
        request=request, action=AuditAction.VIEW, patient_id=patient.pk, obj=patient, detail="guarantor"
    )
    context = {
        "patient": patient, "nav": "patients", "history": guarantor_history(patient.pk),
        "may_record": may_record, "set_form": set_form, "end_form": end_form, **guarantor_context(patient),
    }  # fmt: skip
    return render(request, "billing/guarantor.html", context, status=status)
