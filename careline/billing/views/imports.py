"""Billing staff pages: import a practice-management export (upload, preview, confirm) and void a charge."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from careline.billing.forms import errors_text
from careline.billing.forms.imports import BillingImportUploadForm, ChargeVoidForm
from careline.billing.imports_csv import COLUMNS
from careline.billing.models import BillingImport, Charge
from careline.billing.money import format_money
from careline.billing.services.import_uploads import billing_import_confirm, billing_import_upload
from careline.billing.services.voids import charge_void
from careline.core.actor import Actor
from careline.core.permissions import Perm, has_perm, require_perm
from careline.patients.queries import patient_for_user

RECENT_IMPORTS = 10
SUMMARY_LABELS = {
    "charges_created": "Charges to create",
    "charges_unchanged": "Charges already recorded (unchanged)",
    "claims_created": "Claims to create",
    "claims_status_changed": "Claims whose status changes",
    "claims_unchanged": "Claims already recorded (unchanged)",
    "adjudications_recorded": "Adjudications to record",
}


def _import_for(request: HttpRequest, pk: int) -> BillingImport:
    """Import PK if the person may follow it: their own, or any with PATIENT_VIEW_ALL_LOCATIONS (404 else)."""
    imports = BillingImport.objects.all()
    if not has_perm(request.user, Perm.PATIENT_VIEW_ALL_LOCATIONS):
        imports = imports.filter(created_by=request.user.pk)
    found = imports.filter(pk=pk).first()
    if found is None:
        raise Http404("No such import")
    return found


@require_perm(Perm.BILLING_RECORD)
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    """Upload a practice-management export; it is checked at once and shown for confirmation."""
    status = 200
    if request.method == "POST":
        form = BillingImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            data = upload.read(settings.CARELINE_MAX_IMPORT_BYTES + 1)
            billing_import = billing_import_upload(
                name=upload.name or "", data=data, actor=Actor.from_request(request)
            )
            return redirect("billing:import_preview", pk=billing_import.pk)
        status = 400
    else:
        form = BillingImportUploadForm()
    imports = BillingImport.objects.filter(created_by=request.user.pk)[:RECENT_IMPORTS]
    context = {"form": form, "imports": imports, "columns": COLUMNS, "nav": "billing_import"}
    return render(request, "billing/import_upload.html", context, status=status)


def _preview_context(billing_import: BillingImport) -> dict[str, Any]:
    summary = [(SUMMARY_LABELS.get(name, name), count) for name, count in billing_import.summary.items()]
    return {"billing_import": billing_import, "summary": summary, "nav": "billing_import"}


@require_perm(Perm.BILLING_RECORD)
@require_http_methods(["GET"])
def import_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """What the import will do (or did), or its problems by row and column. Counts only: no patient's data."""
    billing_import = _import_for(request, pk)
    return render(request, "billing/import_preview.html", _preview_context(billing_import))


@require_perm(Perm.BILLING_RECORD)
@require_http_methods(["POST"])
def import_apply(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm a checked import: everything is written at once, or nothing."""
    billing_import = _import_for(request, pk)
    billing_import_confirm(billing_import=billing_import, actor=Actor.from_request(request))
    return redirect("billing:import_preview", pk=billing_import.pk)


@require_perm(Perm.BILLING_RECORD)
@require_http_methods(["POST"])
def void(request: HttpRequest, pk: int) -> HttpResponse:
    """Void a charge (with a reason): it stays on the ledger, marked, and leaves the balance."""
    charge = get_object_or_404(Charge, pk=pk)
    patient = patient_for_user(request.user, charge.patient_id, Perm.BILLING_RECORD)
    form = ChargeVoidForm(request.POST, prefix=f"void-{charge.pk}")
    if not form.is_valid():
        messages.error(request, "Nothing was voided: give the reason for voiding the charge.")
        return redirect("billing:ledger", pk=patient.pk)
    try:
        charge_void(charge=charge, reason=form.cleaned_data["reason"], actor=Actor.from_request(request))
    except ValidationError as error:
        messages.error(request, f"Nothing was voided: {errors_text(error)}")
    else:
        messages.success(
            request,
            f"Charge {charge.service_code} of {format_money(charge.amount_cents, charge.currency)} voided.",
        )
    return redirect("billing:ledger", pk=patient.pk)
