"""Overpayments reviewed by billing staff: money a provider took beyond the balance due is on the worklist
until someone refunds the excess (through the provider for an online payment) or keeps it as the patient's
credit; either way the review is recorded on the payment and audited."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from careline.billing.models import OverpaymentOutcome, Payment
from careline.billing.services.checkouts import refund_through_provider
from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record


def overpayment_review(*, payment: Payment, outcome: str, actor: Actor) -> Payment:
    """Record the review of PAYMENT's overpayment: REFUNDED gives the excess back first; CREDIT keeps it.

    ValidationError (nothing changed) when there is no overpayment, it was reviewed already, the outcome is
    unknown, or the refund is refused (by Careline's rules or the provider)."""
    if outcome not in OverpaymentOutcome.values:
        raise ValidationError({"outcome": "Choose: refund the excess or keep it as credit."})
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.overpayment_cents <= 0:
            raise ValidationError("This payment was not more than was due.")
        if locked.overpayment_reviewed_at is not None:
            raise ValidationError("This overpayment was reviewed already.")
        if outcome == OverpaymentOutcome.REFUNDED:
            refund_through_provider(
                payment=locked,
                amount_cents=locked.overpayment_cents,
                reason="Overpayment refunded",
                actor=actor,
            )
        Payment.objects.filter(pk=locked.pk).update(
            overpayment_outcome=outcome,
            overpayment_reviewed_at=timezone.now(),
            overpayment_reviewed_by=actor.user,
        )
        audit_record(
            actor=actor, action=AuditAction.UPDATE, obj=locked, patient_id=locked.patient_id,
            detail=f"overpayment of {locked.overpayment_cents} cents reviewed: {OverpaymentOutcome(outcome).label}",
        )  # fmt: skip
    locked.refresh_from_db()
    return locked
