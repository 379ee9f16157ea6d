"""Rows billing tests start from: a visit of a patient's, charged, claimed and adjudicated."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from careline.billing.models import Charge, Claim, ClaimStatus
from careline.billing.services.charges import (
    AdjudicationLine,
    charge_add,
    claim_adjudicate,
    claim_submit,
)
from careline.core.actor import Actor
from careline.scheduling.models import Appointment, AppointmentStatus, AppointmentType
from careline.testing.personas import Personas

VISIT_DAY = date(2030, 3, 4)


def visit_of(personas: Personas, patient: Any = None, *, days: int = 0) -> Appointment:
    """A completed visit of PATIENT (Pat by default) at the patient's location."""
    patient = patient or personas.pat
    kind, _ = AppointmentType.objects.get_or_create(name="Billing checkup", defaults={"duration_minutes": 30})
    starts = datetime(2030, 3, 4, 16, 0, tzinfo=UTC) + timedelta(days=days)
    return Appointment.objects.create(
        patient=patient,
        clinician=personas.clinician_a,
        location=patient.primary_location,
        appointment_type=kind,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=30),
        status=AppointmentStatus.COMPLETED,
        created_by=personas.front_a,
    )


def billing_actor(personas: Personas) -> Actor:
    return Actor.staff(personas.billing_a)


def charge_on(
    personas: Personas, visit: Appointment, cents: int, *, units: int = 1, code: str = "99213"
) -> Charge:
    """A charge of UNITS x CENTS on VISIT."""
    return charge_add(
        patient=visit.patient,
        visit=visit,
        service_code=code,
        description="Office visit",
        units=units,
        unit_amount_cents=cents,
        service_date=VISIT_DAY,
        actor=billing_actor(personas),
    )


def paid_claim(
    personas: Personas,
    visit: Appointment,
    charge: Charge,
    *,
    copay: int = 0,
    coinsurance: int = 0,
    deductible: int = 0,
    status: str = ClaimStatus.PAID,
) -> Claim:
    """VISIT claimed and answered: of CHARGE, 80% allowed, the patient owes COPAY + COINSURANCE + DEDUCTIBLE."""
    claim = claim_submit(visit=visit, payer="Acme Health", member_id="M-1", actor=billing_actor(personas))
    allowed = charge.amount_cents * 8 // 10
    patient_share = copay + coinsurance + deductible
    line = AdjudicationLine(
        charge=charge,
        allowed_cents=allowed,
        paid_by_insurer_cents=allowed - patient_share,
        adjustment_cents=charge.amount_cents - allowed,
        adjustment_reason_code="CO-45",
        copay_cents=copay,
        coinsurance_cents=coinsurance,
        deductible_cents=deductible,
    )
    return claim_adjudicate(claim=claim, status=status, lines=[line], actor=billing_actor(personas))


def owing(personas: Personas, cents: int, patient: Any = None) -> Appointment:
    """PATIENT (Pat) owes CENTS after insurance: a visit of 10x CENTS, paid by insurance but a copay of CENTS."""
    visit = visit_of(personas, patient)
    charge = charge_on(personas, visit, cents * 10)
    paid_claim(personas, visit, charge, copay=cents)
    return visit
