"""Money in and out of a patient's account: payments, refunds, credits and write-offs (audited).

A payment never exceeds the balance due and a write-off never exceeds it either; a refund never exceeds what
is left of its payment. The checks read the balance under a lock (the patient's row for payments and
adjustments, the payment's row for refunds), so two desks recording at once cannot both pass them.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from careline.billing.events import PaymentRecorded, RefundRecorded
from careline.billing.models import (
    AdjustmentKind,
    BalanceAdjustment,
    Payment,
    PaymentMethod,
    Refund,
)
from careline.billing.money import format_money
from careline.billing.queries import patient_balance
from careline.billing.services.checks import amount_checked, text_checked
from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.core.events import publish
from careline.patients.models import Patient


def _lock_patient(patient: Patient) -> None:
    """Serialise changes to PATIENT's balance (a no-op on SQLite, whose writes are serialised anyway)."""
    Patient.objects.select_for_update().filter(pk=patient.pk).values_list("pk", flat=True).first()


def payment_record(
    *,
    patient: Patient,
    amount_cents: int,
    method: str,
    actor: Actor,
    reference: str = "",
    provider: str = "",
    provider_reference: str = "",
    received_at: datetime | None = None,
    already_taken: bool = False,
) -> Payment:
    """Record a payment of PATIENT's; refused when more than the balance due (audited, PaymentRecorded).

    A payment whose PROVIDER_REFERENCE is already recorded for PROVIDER is that payment (a provider's event
    delivered twice records one payment). ALREADY_TAKEN: the money has left the payer (a provider charged the
    card), so it is never refused: what is beyond the balance due is recorded as the payment's
    `overpayment_cents`, leaving the patient in credit and flagged for billing staff."""
    amount = amount_checked(amount_cents, "amount_cents")
    if method not in PaymentMethod.values:
        raise ValidationError({"method": "Choose how the patient paid."})
    reference = (reference or "").strip()
    if len(reference) > 60:
        raise ValidationError({"reference": "Keep the reference under 60 characters."})
    provider_reference = (provider_reference or "").strip()[:120]
    provider = (provider or "").strip()[:30]
    with transaction.atomic():
        if provider_reference:
            existing = Payment.objects.filter(
                provider=provider, provider_reference=provider_reference
            ).first()
            if existing is not None:
                if existing.patient_id != patient.pk or existing.amount_cents != amount:
                    raise ValidationError(
                        {"provider_reference": "That provider reference belongs to another payment."}
                    )
                return existing
        _lock_patient(patient)
        balance = patient_balance(patient)
        overpayment = max(amount - balance.due, 0) if already_taken else 0
        if amount > balance.due and not already_taken:
            due = format_money(balance.due, balance.currency)
            raise ValidationError(
                {
                    "amount_cents": (
                        f"The payment ({format_money(amount, balance.currency)}) is more than the balance due "
                        f"({due}). Take at most {due}."
                        if balance.due
                        else "Nothing is due: this patient owes nothing now."
                    )
                }
            )
        try:
            with transaction.atomic():
                payment = Payment.objects.create(
                    patient=patient,
                    amount_cents=amount,
                    method=method,
                    reference=reference,
                    provider=provider,
                    provider_reference=provider_reference,
                    received_at=received_at or timezone.now(),
                    recorded_by=actor.user,
                    overpayment_cents=overpayment,
                )
        except IntegrityError:
            raise ValidationError(
                {"provider_reference": "That provider reference is already recorded."}
            ) from None
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=payment,
            patient_id=patient.pk,
            detail=f"payment of {amount} cents ({method})"
            + (f", {overpayment} cents more than was due: patient in credit" if overpayment else ""),
        )
        publish(
            PaymentRecorded(
                payment_id=payment.pk,
                patient_id=patient.pk,
                amount_cents=amount,
                currency=payment.currency,
                method=method,
            )
        )
    return payment


def refund_record(*, payment: Payment, amount_cents: int, reason: str, actor: Actor) -> Refund:
    """Give back AMOUNT_CENTS of PAYMENT; refused when more than what is left of it (audited, RefundRecorded)."""
    amount = amount_checked(amount_cents, "amount_cents")
    reason = text_checked(reason, "reason", 200, "Say why the money is given back.")
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        refunded = locked.refunds.aggregate(total=Coalesce(Sum("amount_cents"), Value(0)))["total"]
        left = locked.amount_cents - int(refunded)
        if amount > left:
            raise ValidationError(
                {
                    "amount_cents": (
                        f"Only {format_money(left, locked.currency)} of this payment is left to refund."
                        if left
                        else "This payment has been refunded in full."
                    )
                }
            )
        refund = Refund.objects.create(
            payment=locked,
            patient_id=locked.patient_id,
            amount_cents=amount,
            reason=reason,
            refunded_at=timezone.now(),
            recorded_by=actor.user,
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=refund,
            patient_id=locked.patient_id,
            detail=f"refund of {amount} cents of payment {locked.pk}",
        )
        publish(
            RefundRecorded(
                refund_id=refund.pk,
                payment_id=locked.pk,
                patient_id=locked.patient_id,
                amount_cents=amount,
                currency=refund.currency,
            )
        )
    return refund


def balance_adjust(
    *, patient: Patient, kind: str, amount_cents: int, reason: str, actor: Actor
) -> BalanceAdjustment:
    """Take AMOUNT_CENTS off PATIENT's balance as a credit or a write-off (audited).

    A write-off is refused beyond the balance due (it forgives a debt, it does not create a credit); a
    credit may leave the patient in credit."""
    if kind not in AdjustmentKind.values:
        raise ValidationError({"kind": "Choose a credit or a write-off."})
    amount = amount_checked(amount_cents, "amount_cents")
    reason = text_checked(reason, "reason", 200, "Say why the balance changes.")
    with transaction.atomic():
        _lock_patient(patient)
        if kind == AdjustmentKind.WRITE_OFF:
            balance = patient_balance(patient)
            if amount > balance.due:
                raise ValidationError(
                    {
                        "amount_cents": (
                            f"A write-off cannot be more than the balance due "
                            f"({format_money(balance.due, balance.currency)})."
                        )
                    }
                )
        adjustment = BalanceAdjustment.objects.create(
            patient=patient,
            kind=kind,
            amount_cents=amount,
            reason=reason,
            created_at=timezone.now(),
            recorded_by=actor.user,
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=adjustment,
            patient_id=patient.pk,
            detail=f"{kind.replace('_', '-')} of {amount} cents",
        )
    return adjustment
