"""What a payment provider reports about a payment after it was taken: refunds made in its dashboard and card
disputes (chargebacks). Each is recorded once on Careline's ledger, whatever the order or repetition of the
provider's events.

- A refund is keyed by the provider's refund id: a refund made from Careline's ledger already carries it, so
  the provider reporting it back records nothing more; one made in the provider's dashboard is recorded.
- A dispute opens a worklist task (kind dispute) and, when the patient has none open, a Dispute that stops the
  follow-ups; its close records the outcome, and a lost dispute (the money went back to the card) is
  recorded as a refund of the disputed amount, keyed by the dispute's id.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from careline.billing.models import BillingTask, Dispute, Payment, Refund, TaskKind
from careline.billing.money import format_money
from careline.billing.services.checkouts import PART_SEPARATOR, provider_actor
from careline.billing.services.payments import refund_record
from careline.core.audit import AuditAction, audit_record

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportedRefund:
    reference: str  # the provider's refund id
    amount_cents: int


def _payments(provider: str, payment_reference: str) -> list[Payment]:
    """The rows of the provider's payment PAYMENT_REFERENCE (its parts after a guarantor's), locked, main first."""
    rows = list(
        Payment.objects.select_for_update()
        .filter(provider=provider)
        .filter(
            Q(provider_reference=payment_reference)
            | Q(provider_reference__startswith=f"{payment_reference}{PART_SEPARATOR}")
        )
        .order_by("id")
    )
    rows.sort(key=lambda row: row.provider_reference != payment_reference)
    return rows


def _left(payment: Payment) -> int:
    refunded = payment.refunds.aggregate(total=Sum("amount_cents"))["total"] or 0
    return payment.amount_cents - int(refunded)


def _record(payments: list[Payment], *, amount_cents: int, reference: str, reason: str, provider: str) -> int:
    """Record AMOUNT_CENTS given back over PAYMENTS (main row first), keyed REFERENCE; the cents recorded."""
    recorded = 0
    for payment in payments:
        take = min(_left(payment), amount_cents - recorded)
        if take <= 0:
            continue
        refund = refund_record(
            payment=payment, amount_cents=take, reason=reason, actor=provider_actor(provider)
        )
        key = reference if not recorded else f"{reference}{PART_SEPARATOR}{payment.patient_id}"
        Refund.objects.filter(pk=refund.pk).update(provider_reference=key[:120])
        recorded += take
        if recorded >= amount_cents:
            break
    if recorded < amount_cents:
        logger.warning("%s reported %s cents given back of a payment with less left", provider, amount_cents)
    return recorded


def provider_refunds_reported(
    *, provider: str, payment_reference: str, refunds: list[ReportedRefund], refunded_total: int
) -> int:
    """The provider says its payment PAYMENT_REFERENCE was refunded: REFUNDS by id (when it lists them), or
    REFUNDED_TOTAL in all. Records what Careline's ledger does not have yet; the number of refunds recorded."""
    with transaction.atomic():
        payments = _payments(provider, payment_reference)
        if not payments:
            return 0
        known = set(
            Refund.objects.filter(payment__in=payments)
            .exclude(provider_reference="")
            .values_list("provider_reference", flat=True)
        )
        count = 0
        if refunds:
            for reported in refunds:
                if reported.reference in known or reported.amount_cents <= 0:
                    continue
                if _record(
                    payments, amount_cents=reported.amount_cents, reference=reported.reference,
                    reason="Refunded at the payment provider", provider=provider,
                ):  # fmt: skip
                    count += 1
            return count
        # No list of refunds: whatever of the total the ledger does not have yet, keyed by the total.
        already = sum(payment.amount_cents - _left(payment) for payment in payments)
        missing = refunded_total - already
        if missing > 0:
            count += bool(
                _record(
                    payments,
                    amount_cents=missing,
                    reference=f"{payment_reference}:refunded:{refunded_total}",
                    reason="Refunded at the payment provider",
                    provider=provider,
                )
            )
        return count


def provider_dispute_opened(
    *, provider: str, payment_reference: str, dispute_reference: str, amount_cents: int, reason: str
) -> BillingTask | None:
    """A card dispute of the provider's payment: a dispute task on the worklist (once) and, when the patient
    has none open, a Dispute that stops the follow-ups (audited); None for a payment Careline does not know."""
    with transaction.atomic():
        payments = _payments(provider, payment_reference)
        if not payments:
            return None
        payment = payments[0]
        now = timezone.now()
        key = f"{provider}-dispute:{dispute_reference}"[:60]
        task, created = BillingTask.objects.get_or_create(
            source_key=key,
            defaults={"patient_id": payment.patient_id, "kind": TaskKind.DISPUTE, "created_at": now},
        )
        if not created:
            return task
        words = f"Card dispute at {provider} ({reason or 'no reason given'}): {format_money(amount_cents, payment.currency)}"
        if not Dispute.objects.filter(patient_id=payment.patient_id, resolved_at__isnull=True).exists():
            from careline.billing.services.collections import StopReason, followups_stop

            Dispute.objects.create(
                patient_id=payment.patient_id, reason=words[:500], opened_at=now,
                provider_reference=key,
            )  # fmt: skip
            followups_stop(patient_id=payment.patient_id, reason=StopReason.DISPUTE)
        audit_record(
            actor=provider_actor(provider), action=AuditAction.CREATE, obj=task, patient_id=payment.patient_id,
            detail=f"{words} of payment {payment.pk}",
        )  # fmt: skip
        return task


def provider_dispute_closed(
    *, provider: str, payment_reference: str, dispute_reference: str, amount_cents: int, status: str
) -> BillingTask | None:
    """The card dispute ended: the task and the Dispute record STATUS; lost, the disputed amount went back to
    the card and is recorded as a refund (once, keyed by the dispute)."""
    with transaction.atomic():
        payments = _payments(provider, payment_reference)
        if not payments:
            return None
        task = provider_dispute_opened(
            provider=provider, payment_reference=payment_reference, dispute_reference=dispute_reference,
            amount_cents=amount_cents, reason="",
        )  # fmt: skip
        key = f"{provider}-dispute:{dispute_reference}"[:60]
        now = timezone.now()
        outcome = f"Card dispute {status or 'closed'} at {provider}"
        lost = status == "lost"
        if (
            lost
            and not Refund.objects.filter(payment__in=payments, provider_reference=dispute_reference).exists()
        ):
            _record(
                payments, amount_cents=amount_cents, reference=dispute_reference,
                reason="Card dispute lost: the amount went back to the card", provider=provider,
            )  # fmt: skip
        BillingTask.objects.filter(source_key=key, state="open").update(
            state="done", closed_at=now, outcome=outcome[:200]
        )
        Dispute.objects.filter(provider_reference=key, resolved_at__isnull=True).update(
            resolved_at=now, resolution=outcome[:500]
        )
        audit_record(
            actor=provider_actor(provider), action=AuditAction.UPDATE, obj=task, patient_id=payments[0].patient_id,
            detail=outcome,
        )  # fmt: skip
        return task
