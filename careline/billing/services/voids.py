"""Voiding a charge: it stays on the ledger, marked, and no longer counts toward the balance (audited).

The rule: a charge a payer has decided (an adjudication on a paid or denied claim) is not voided, because the
payer's answer (and what it paid) would no longer match the ledger; appeal the claim first (an appealed claim
is not final). A charge the patient has already paid toward may be voided: the payments stay, and the balance
may become a credit that billing staff refund or keep.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from careline.billing.models import FINAL_CLAIM_STATUSES, Charge
from careline.billing.services.checks import text_checked
from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record


def charge_void(*, charge: Charge, reason: str, actor: Actor) -> Charge:
    """Void CHARGE for REASON (audited); refused when a paid or denied claim decided it, or when already void."""
    reason = text_checked(reason, "reason", 200, "Say why the charge is voided.")
    with transaction.atomic():
        locked = Charge.objects.select_for_update().get(pk=charge.pk)
        if locked.voided:
            raise ValidationError({"charge": "This charge is already voided."})
        decided = locked.adjudications.filter(claim__status__in=FINAL_CLAIM_STATUSES).select_related("claim")
        final = decided.first()
        if final is not None:
            raise ValidationError(
                {
                    "charge": (
                        f"The claim to {final.claim.payer} is {final.claim.get_status_display().lower()} "
                        "for this charge; appeal the claim before voiding the charge."
                    )
                }
            )
        locked.voided = True
        locked.voided_at = timezone.now()
        locked.voided_by = actor.user
        locked.void_reason = reason
        locked.save(update_fields=["voided", "voided_at", "voided_by", "void_reason"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=locked,
            patient_id=locked.patient_id,
            detail=f"billing charge of {locked.amount_cents} cents voided",
        )
    return locked
