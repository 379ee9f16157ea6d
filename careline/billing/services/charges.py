"""What a visit costs and what insurance decided: charges, claims, adjudications and self-pay visits (audited)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from careline.billing.events import ClaimStatusChanged, VisitMarkedSelfPay
from careline.billing.models import (
    MAX_AMOUNT_CENTS,
    Adjudication,
    Charge,
    Claim,
    ClaimStatus,
    SelfPayVisit,
)
from careline.billing.services.checks import amount_checked, text_checked
from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.core.events import publish
from careline.patients.models import Patient

MAX_UNITS = 999


def charge_add(
    *,
    patient: Patient,
    service_code: str,
    description: str,
    unit_amount_cents: int,
    service_date: date,
    actor: Actor,
    units: int = 1,
    visit: Any = None,
    external_id: str = "",
) -> Charge:
    """Add a charge of PATIENT's (on VISIT, one of theirs, if given): UNITS at UNIT_AMOUNT_CENTS (audited)."""
    if visit is not None and visit.patient_id != patient.pk:
        raise ValidationError({"visit": "That visit is another patient's."})
    code = text_checked(service_code, "service_code", 20, "Enter the service code.")
    text = text_checked(description, "description", 200, "Describe the service.")
    if not isinstance(units, int) or not 1 <= units <= MAX_UNITS:
        raise ValidationError({"units": f"Units are a whole number from 1 to {MAX_UNITS}."})
    unit_amount = amount_checked(unit_amount_cents, "unit_amount_cents", allow_zero=True)
    if unit_amount * units > MAX_AMOUNT_CENTS:
        raise ValidationError({"units": "That charge is larger than any one charge may be."})
    external_id = (external_id or "").strip()[:100]
    try:
        with transaction.atomic():
            charge = Charge.objects.create(
                patient=patient,
                visit=visit,
                service_code=code,
                description=text,
                units=units,
                unit_amount_cents=unit_amount,
                amount_cents=unit_amount * units,
                service_date=service_date,
                external_id=external_id,
                created_by=actor.user,
            )
            audit_record(
                actor=actor,
                action=AuditAction.CREATE,
                obj=charge,
                patient_id=patient.pk,
                detail=f"billing charge of {charge.amount_cents} cents",
            )
    except IntegrityError:
        raise ValidationError(
            {"external_id": "A charge with that external id is already recorded."}
        ) from None
    return charge


def claim_submit(
    *,
    visit: Any,
    payer: str,
    member_id: str,
    actor: Actor,
    submitted_at: datetime | None = None,
    external_id: str = "",
) -> Claim:
    """Record that VISIT's charges were claimed from PAYER for the member MEMBER_ID (audited).

    EXTERNAL_ID is the practice-management system's claim number (imports), unique when given."""
    payer = text_checked(payer, "payer", 120, "Name the payer.")
    member_id = text_checked(member_id, "member_id", 60, "Enter the member id.")
    with transaction.atomic():
        claim = Claim.objects.create(
            patient_id=visit.patient_id,
            visit=visit,
            payer=payer,
            member_id=member_id,
            status=ClaimStatus.SUBMITTED,
            submitted_at=submitted_at or timezone.now(),
            external_id=(external_id or "").strip()[:100],
            created_by=actor.user,
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=claim,
            patient_id=visit.patient_id,
            detail="claim submitted",
        )
    return claim


@dataclass(frozen=True)
class AdjudicationLine:
    """The payer's decision for one charge: the charge's amount = allowed + adjustment, and
    allowed = paid by the insurer + copay + coinsurance + deductible (the patient's share)."""

    charge: Charge
    allowed_cents: int
    paid_by_insurer_cents: int
    adjustment_cents: int = 0
    adjustment_reason_code: str = ""
    adjustment_reason: str = ""
    copay_cents: int = 0
    coinsurance_cents: int = 0
    deductible_cents: int = 0

    @property
    def patient_responsibility_cents(self) -> int:
        return self.copay_cents + self.coinsurance_cents + self.deductible_cents


def _line_checked(claim: Claim, line: AdjudicationLine) -> dict[str, Any]:
    """LINE's columns, or ValidationError when its charge is not the claim's or its parts do not add up."""
    charge = line.charge
    if charge.visit_id != claim.visit_id or charge.patient_id != claim.patient_id:
        raise ValidationError({"charge": "That charge is not on the claim's visit."})
    if charge.voided:
        raise ValidationError({"charge": "That charge is voided."})
    values: dict[str, Any] = {
        name: amount_checked(getattr(line, name), name, allow_zero=True)
        for name in (
            "allowed_cents",
            "paid_by_insurer_cents",
            "adjustment_cents",
            "copay_cents",
            "coinsurance_cents",
            "deductible_cents",
        )
    }
    if values["allowed_cents"] + values["adjustment_cents"] != charge.amount_cents:
        raise ValidationError(
            {"allowed_cents": "The allowed amount and the adjustment must add up to the charge."}
        )
    if values["paid_by_insurer_cents"] + line.patient_responsibility_cents != values["allowed_cents"]:
        raise ValidationError(
            {
                "paid_by_insurer_cents": "What insurance paid and the patient's share (copay, coinsurance, "
                "deductible) must add up to the allowed amount."
            }
        )
    values["adjustment_reason_code"] = (line.adjustment_reason_code or "").strip()[:10]
    values["adjustment_reason"] = (line.adjustment_reason or "").strip()[:200]
    if values["adjustment_cents"] and not (values["adjustment_reason_code"] or values["adjustment_reason"]):
        raise ValidationError({"adjustment_reason": "Give the reason for the adjustment."})
    return values


def claim_adjudicate(
    *,
    claim: Claim,
    status: str,
    lines: Sequence[AdjudicationLine],
    actor: Actor,
    adjudicated_at: datetime | None = None,
) -> Claim:
    """Record the payer's answer to CLAIM: paid or denied, with a decision per charge (audited).

    A claim already final is refused (appeal it first); the lines replace those of an earlier answer."""
    if status not in (ClaimStatus.PAID, ClaimStatus.DENIED):
        raise ValidationError({"status": "A payer's answer is paid or denied."})
    charges = [line.charge.pk for line in lines]
    if len(set(charges)) != len(charges):
        raise ValidationError({"charge": "Each charge is decided once per answer."})
    at = adjudicated_at or timezone.now()
    with transaction.atomic():
        locked = Claim.objects.select_for_update().get(pk=claim.pk)
        if locked.is_final:
            raise ValidationError({"status": "This claim is already final; record an appeal first."})
        rows = [_line_checked(locked, line) for line in lines]
        for line, values in zip(lines, rows, strict=True):
            Adjudication.objects.update_or_create(
                claim=locked, charge=line.charge, defaults={**values, "adjudicated_at": at}
            )
        previous = locked.status
        locked.status = status
        locked.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=locked,
            patient_id=locked.patient_id,
            detail=f"claim {status}, {len(rows)} line(s) adjudicated",
        )
        publish(
            ClaimStatusChanged(
                claim_id=locked.pk,
                visit_id=locked.visit_id,
                patient_id=locked.patient_id,
                from_status=previous,
                to_status=status,
                is_final=locked.is_final,
            )
        )
    return locked


def claim_appeal(*, claim: Claim, actor: Actor) -> Claim:
    """Record that a decided CLAIM was appealed: it is no longer final until the payer answers again (audited)."""
    with transaction.atomic():
        locked = Claim.objects.select_for_update().get(pk=claim.pk)
        if not locked.is_final:
            raise ValidationError({"status": "Only a paid or denied claim can be appealed."})
        previous = locked.status
        locked.status = ClaimStatus.APPEALED
        locked.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=locked,
            patient_id=locked.patient_id,
            detail="claim appealed",
        )
        publish(
            ClaimStatusChanged(
                claim_id=locked.pk,
                visit_id=locked.visit_id,
                patient_id=locked.patient_id,
                from_status=previous,
                to_status=ClaimStatus.APPEALED,
                is_final=False,
            )
        )
    return locked


def visit_mark_self_pay(*, visit: Any, actor: Actor, reason: str = "") -> SelfPayVisit:
    """Mark VISIT self-pay: its charges are wholly the patient's (audited). Marking it again changes nothing."""
    reason = (reason or "").strip()
    if len(reason) > 200:
        raise ValidationError({"reason": "Keep the reason under 200 characters."})
    with transaction.atomic():
        marked, created = SelfPayVisit.objects.get_or_create(
            visit=visit,
            defaults={
                "patient_id": visit.patient_id,
                "reason": reason,
                "marked_by": actor.user,
                "marked_at": timezone.now(),
            },
        )
        if created:
            audit_record(
                actor=actor,
                action=AuditAction.UPDATE,
                obj=visit,
                patient_id=visit.patient_id,
                detail="visit marked self-pay",
            )
            publish(VisitMarkedSelfPay(visit_id=visit.pk, patient_id=visit.patient_id))
    return marked
