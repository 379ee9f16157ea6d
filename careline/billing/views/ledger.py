"""Staff pages of billing: a patient's ledger (billing staff), taking a payment at the desk, and the ledger's actions.

Each view: parse, authorize (the permission, then the patient through `patient_for_user`), call a query or a
service, render. Every page that shows a patient's billing data writes an audit entry naming the patient.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from careline.billing.forms import (
    AdjustmentForm,
    DeskPaymentForm,
    RefundForm,
    SelfPayForm,
    errors_text,
)
from careline.billing.models import Payment
from careline.billing.money import format_money
from careline.billing.queries import patient_balance, patient_ledger, statements_of_patient
from careline.billing.services.charges import visit_mark_self_pay
from careline.billing.services.checkouts import refund_through_provider
from careline.billing.services.payments import balance_adjust, payment_record
from careline.billing.services.receipts import receipt_number, receipt_payer
from careline.billing.views.collections import collections_context
from careline.billing.views.guarantors import guarantor_context
from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_patient_access
from careline.core.permissions import Perm, has_perm, require_perm
from careline.patients.models import Patient
from careline.patients.queries import patient_for_user
from careline.scheduling.models import Appointment


def _add_errors(form: Any, error: ValidationError) -> None:
    """A service's refusal onto FORM: its field errors where the form has the field, else the form's own."""
    fields = {"amount_cents": "amount", "provider_reference": None}
    if hasattr(error, "error_dict"):
        for name, problems in error.message_dict.items():
            field = fields.get(name, name)
            form.add_error(field if field in form.fields else None, problems)
    else:
        form.add_error(None, error.messages)


def _context(patient: Patient, **extra: Any) -> dict[str, Any]:
    """What every billing page about a patient passes: the patient (base.html shows their banner)."""
    return {"patient": patient, "nav": "patients", **extra}


@require_perm(Perm.BILLING_VIEW)
@require_http_methods(["GET"])
def ledger(request: HttpRequest, pk: int) -> HttpResponse:
    """A patient's billing ledger: charges by visit with what insurance decided, payments, refunds,
    adjustments and the derived balance, with the forms billing staff record them with."""
    patient = patient_for_user(request.user, pk, Perm.BILLING_VIEW)
    account = patient_ledger(patient)
    audit_patient_access(
        request=request, action=AuditAction.VIEW, patient_id=patient.pk, obj=patient, detail="billing ledger"
    )
    may_record = has_perm(request.user, Perm.BILLING_RECORD)
    payments = [
        (
            payment,
            payment.amount_cents - sum(refund.amount_cents for refund in payment.refunds.all()),
            RefundForm(prefix=f"refund-{payment.pk}"),
        )
        for payment in account.payments
    ]
    context = _context(
        patient,
        ledger=account,
        balance=account.balance,
        payments=payments,
        may_record=may_record,
        may_take_payment=has_perm(request.user, Perm.PAYMENT_TAKE),
        may_mark_self_pay=has_perm(request.user, Perm.BILLING_SELF_PAY),
        payment_form=DeskPaymentForm(prefix="payment"),
        adjustment_form=AdjustmentForm(prefix="adjustment"),
        statements=list(statements_of_patient(patient.pk)[:20]),
        **collections_context(request, patient),
        **guarantor_context(patient),
    )
    return render(request, "billing/ledger.html", context)


@require_perm(Perm.PAYMENT_TAKE)
@require_http_methods(["GET", "POST"])
def payment_take(request: HttpRequest, pk: int) -> HttpResponse:
    """Take a payment at the desk (cash, check, card terminal): the balance due and the form."""
    patient = patient_for_user(request.user, pk, Perm.PAYMENT_TAKE)
    status = 200
    if request.method == "POST":
        form = DeskPaymentForm(request.POST, prefix="payment")
        if form.is_valid():
            try:
                payment = payment_record(
                    patient=patient,
                    amount_cents=form.cleaned_data["amount"],
                    method=form.cleaned_data["method"],
                    reference=form.cleaned_data["reference"],
                    actor=Actor.from_request(request),
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(
                    request,
                    f"Payment of {format_money(payment.amount_cents, payment.currency)} recorded: "
                    f"receipt {receipt_number(payment)}.",
                )
                if request.POST.get("then") == "receipt":
                    return redirect("billing:receipt", pk=payment.pk)
                if has_perm(request.user, Perm.BILLING_VIEW):
                    return redirect("billing:ledger", pk=patient.pk)
                return redirect("patients:detail", pk=patient.pk)
        status = 400
    else:
        form = DeskPaymentForm(prefix="payment")
    balance = patient_balance(patient)
    audit_patient_access(
        request=request,
        action=AuditAction.VIEW,
        patient_id=patient.pk,
        obj=patient,
        detail="balance due (desk payment)",
    )
    return render(
        request, "billing/payment.html", _context(patient, form=form, balance=balance), status=status
    )


def _back_with(
    request: HttpRequest, patient_id: int, error: ValidationError | None, done: str
) -> HttpResponse:
    """Back to the ledger, saying what was recorded or why nothing was."""
    if error is not None:
        messages.error(request, f"Nothing was recorded: {errors_text(error)}")
    else:
        messages.success(request, done)
    return redirect("billing:ledger", pk=patient_id)


def _form_error(form: Any) -> ValidationError:
    """FORM's errors as one ValidationError naming the fields."""
    problems = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        problems += [f"{label}: {e}" if label else str(e) for e in errors]
    return ValidationError(problems)


@require_perm(Perm.BILLING_RECORD)
@require_http_methods(["POST"])
def refund(request: HttpRequest, pk: int) -> HttpResponse:
    """Give back part or all of a payment (through its payment provider when it was paid online)."""
    payment = get_object_or_404(Payment, pk=pk)
    patient = patient_for_user(request.user, payment.patient_id, Perm.BILLING_RECORD)
    form = RefundForm(request.POST, prefix=f"refund-{payment.pk}")
    if not form.is_valid():
        return _back_with(request, patient.pk, _form_error(form), "")
    try:
        done = refund_through_provider(
            payment=payment,
            amount_cents=form.cleaned_data["amount"],
            reason=form.cleaned_data["reason"],
            actor=Actor.from_request(request),
        )
    except ValidationError as error:
        return _back_with(request, patient.pk, error, "")
    through = " (given back through the payment provider)" if done.provider_reference else ""
    return _back_with(
        request,
        patient.pk,
        None,
        f"Refund of {format_money(done.amount_cents, done.currency)} recorded{through}.",
    )


@require_perm(Perm.BILLING_RECORD)
@require_http_methods(["POST"])
def adjust(request: HttpRequest, pk: int) -> HttpResponse:
    """Take an amount off the balance as a credit or a write-off."""
    patient = patient_for_user(request.user, pk, Perm.BILLING_RECORD)
    form = AdjustmentForm(request.POST, prefix="adjustment")
    if not form.is_valid():
        return _back_with(request, patient.pk, _form_error(form), "")
    try:
        done = balance_adjust(
            patient=patient,
            kind=form.cleaned_data["kind"],
            amount_cents=form.cleaned_data["amount"],
            reason=form.cleaned_data["reason"],
            actor=Actor.from_request(request),
        )
    except ValidationError as error:
        return _back_with(request, patient.pk, error, "")
    return _back_with(
        request,
        patient.pk,
        None,
        f"{done.get_kind_display()} of {format_money(done.amount_cents, done.currency)} recorded.",
    )


@require_perm(Perm.BILLING_SELF_PAY)
@require_http_methods(["POST"])
def self_pay(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark a visit self-pay (administrators): its charges are then wholly the patient's."""
    visit = get_object_or_404(Appointment, pk=pk)
    patient = patient_for_user(request.user, visit.patient_id, Perm.BILLING_SELF_PAY)
    form = SelfPayForm(request.POST, prefix=f"self-pay-{visit.pk}")
    if not form.is_valid():
        return _back_with(request, patient.pk, _form_error(form), "")
    try:
        visit_mark_self_pay(
            visit=visit, reason=form.cleaned_data["reason"], actor=Actor.from_request(request)
        )
    except ValidationError as error:
        return _back_with(request, patient.pk, error, "")
    return _back_with(request, patient.pk, None, "Visit marked self-pay: its charges are the patient's.")


@require_perm(Perm.PAYMENT_TAKE)
@require_http_methods(["GET"])
def receipt(request: HttpRequest, pk: int) -> HttpResponse:
    """A payment's receipt, to print at the desk (who paid, how much, how, the balance now)."""
    payment = get_object_or_404(Payment.objects.select_related("patient__primary_location"), pk=pk)
    patient = patient_for_user(request.user, payment.patient_id, Perm.PAYMENT_TAKE)
    audit_patient_access(
        request=request, action=AuditAction.VIEW, patient_id=patient.pk, obj=payment, detail="payment receipt"
    )
    refunded = sum(refund.amount_cents for refund in payment.refunds.all())
    context = _context(
        patient,
        payment=payment,
        number=receipt_number(payment),
        payer=receipt_payer(payment),
        refunded=refunded,
        balance=patient_balance(patient),
        location=patient.primary_location,
    )
    return render(request, "billing/receipt.html", context)
