"""Statements on the staff side: preview and issue from the ledger, a statement's page (lines, delivery and
its reason, history), its PDF, void, the pay link sent again, and the day's mail batch (billing staff; audited)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from careline.billing.forms import MailBatchForm, StatementIssueForm, StatementVoidForm, errors_text
from careline.billing.models import Statement
from careline.billing.queries import (
    patient_balance,
    statement_balance,
    statement_history,
    statement_line_drafts_of,
    statement_totals,
    statements_mailed_on,
)
from careline.billing.services.guarantors import statement_holder
from careline.billing.services.statements import (
    statement_delivery_plan,
    statement_issue,
    statement_link_resend,
    statement_void,
)
from careline.billing.statement_document import statement_document
from careline.billing.statement_pdf import statement_pdf, statements_batch_pdf
from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_patient_access, audit_record
from careline.core.permissions import Perm, has_perm, require_perm
from careline.patients.models import Patient
from careline.patients.queries import patient_for_user, patients_visible_to


def _statement_for(request: HttpRequest, pk: int, perm: str) -> Statement:
    """Statement PK if the user may see its patient (404 unknown, 403 another location's)."""
    statement = get_object_or_404(
        Statement.objects.select_related("patient__primary_location", "guarantor", "issued_by"), pk=pk
    )
    patient_for_user(request.user, statement.patient_id, perm)
    return statement


@require_perm(Perm.BILLING_RECORD)
@require_http_methods(["GET", "POST"])
def statement_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """What a statement issued now would list and where it would go; POST issues it."""
    patient = patient_for_user(request.user, pk, Perm.BILLING_RECORD)
    form = StatementIssueForm(
        request.POST if request.method == "POST" else None,
        initial={"due_in_days": settings.CARELINE_STATEMENT_DUE_DAYS},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                statement = statement_issue(
                    patient=patient,
                    due_in_days=form.cleaned_data["due_in_days"],
                    actor=Actor.from_request(request),
                )
            except ValidationError as error:
                form.add_error(None, errors_text(error))
            else:
                messages.success(
                    request, f"Statement {statement.number} issued ({statement.get_channel_display()})."
                )
                return redirect("billing:statement", pk=statement.pk)
        status = 400
    # A patient with a guarantor is billed on the guarantor's statement, with the guarantor's other dependants.
    holder, group = statement_holder(patient)
    by_patient = statement_line_drafts_of(group)
    drafts = [draft for pk in group for draft in by_patient[pk]]
    plan = statement_delivery_plan(holder)
    names = (
        {row.pk: row.display_name for row in Patient.objects.filter(pk__in=group)} if len(group) > 1 else {}
    )
    audit_patient_access(
        request=request,
        action=AuditAction.VIEW,
        patient_id=patient.pk,
        obj=patient,
        detail="statement preview",
    )
    context = {
        "patient": patient, "nav": "patients", "form": form, "lines": drafts, "totals": statement_totals(drafts),
        "plan": plan, "balance": patient_balance(patient), "holder": holder, "names": names,
    }  # fmt: skip
    return render(request, "billing/statement_preview.html", context, status=status)


@require_perm(Perm.BILLING_VIEW)
@require_http_methods(["GET"])
def statement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One statement: its lines and totals, how it went and why, its history, and what may be done with it."""
    statement = _statement_for(request, pk, Perm.BILLING_VIEW)
    document = statement_document(statement, pay_url="")
    audit_patient_access(
        request=request, action=AuditAction.VIEW, patient_id=statement.patient_id, obj=statement,
        detail=f"statement {statement.number}",
    )  # fmt: skip
    context: dict[str, Any] = {
        "patient": statement.patient, "nav": "patients", "statement": statement, "document": document,
        "history": statement_history(statement), "may_record": has_perm(request.user, Perm.BILLING_RECORD),
        "void_form": StatementVoidForm(), "balance": statement_balance(statement),
        "names": document.names,
    }  # fmt: skip
    return render(request, "billing/statement.html", context)


@require_perm(Perm.BILLING_VIEW)
@require_http_methods(["GET"])
def statement_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The statement's PDF (a pay link made now)."""
    statement = _statement_for(request, pk, Perm.BILLING_VIEW)
    data = statement_pdf(statement)
    audit_patient_access(
        request=request, action=AuditAction.VIEW, patient_id=statement.patient_id, obj=statement,
        detail=f"statement {statement.number} PDF",
    )  # fmt: skip
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="statement-{statement.number}.pdf"'
    return response


@require_perm(Perm.BILLING_RECORD)
@require_http_methods(["POST"])
def statement_void_view(request: HttpRequest, pk: int) -> HttpResponse:
    statement = _statement_for(request, pk, Perm.BILLING_RECORD)
    form = StatementVoidForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Nothing was changed: say why the statement is voided.")
        return redirect("billing:statement", pk=statement.pk)
    try:
        statement_void(
            statement=statement, reason=form.cleaned_data["reason"], actor=Actor.from_request(request)
        )
    except ValidationError as error:
        messages.error(request, f"Nothing was changed: {errors_text(error)}")
    else:
        messages.success(request, f"Statement {statement.number} voided; its pay link no longer works.")
    return redirect("billing:statement", pk=statement.pk)


@require_perm(Perm.BILLING_RECORD)
@require_http_methods(["POST"])
def statement_resend(request: HttpRequest, pk: int) -> HttpResponse:
    """Send a fresh pay link to the payer's text or email on file."""
    statement = _statement_for(request, pk, Perm.BILLING_RECORD)
    try:
        statement_link_resend(statement=statement, actor=Actor.from_request(request))
    except ValidationError as error:
        messages.error(request, f"No link was sent: {errors_text(error)}")
    else:
        messages.success(request, "A fresh pay link was sent.")
    return redirect("billing:statement", pk=statement.pk)


@require_perm(Perm.BILLING_VIEW)
@require_http_methods(["GET"])
def mail_batch(request: HttpRequest) -> HttpResponse:
    """The day's mailed statements of the user's patients: a list, or (?format=pdf) one PDF for the printer."""
    form = MailBatchForm(request.GET or None, initial={"day": timezone.localdate()})
    day = form.cleaned_data["day"] if form.is_bound and form.is_valid() else timezone.localdate()
    if form.is_bound and not form.is_valid():
        messages.error(request, "Choose a day such as 2030-03-04.")
    statements = list(statements_mailed_on(day, patients_visible_to(request.user)))
    if not has_perm(request.user, Perm.BILLING_VIEW):
        raise PermissionDenied
    audit_record(
        request=request, action=AuditAction.VIEW, object_type="billing.statement",
        detail=f"mail batch of {day}: {len(statements)} statements",
    )  # fmt: skip
    if request.GET.get("format") == "pdf":
        if not statements:
            raise Http404("no statements go by mail that day")
        for statement in statements:
            audit_patient_access(
                request=request, action=AuditAction.VIEW, patient_id=statement.patient_id, obj=statement,
                detail=f"statement {statement.number} in the mail batch of {day}",
            )  # fmt: skip
        response = HttpResponse(
            statements_batch_pdf(statements, title=f"Statements {day}"), content_type="application/pdf"
        )
        response["Content-Disposition"] = f'attachment; filename="statements-mail-{day.isoformat()}.pdf"'
        return response
    context = {"form": form, "day": day, "statements": statements, "nav": "patients"}
    return render(request, "billing/mail_batch.html", context, status=400 if form.errors else 200)
