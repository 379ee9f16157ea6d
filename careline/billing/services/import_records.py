"""The records of a billing import (from a CSV row or an API body), its problems and its plan."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.utils import timezone

from careline.billing.models import Claim
from careline.patients.models import Patient
from careline.scheduling.models import Appointment

Ref = Any  # a CSV row number, or (list name, index) for the API
AMOUNT_FIELDS = (
    "allowed_cents",
    "paid_by_insurer_cents",
    "adjustment_cents",
    "copay_cents",
    "coinsurance_cents",
    "deductible_cents",
)


@dataclass
class ChargeRecord:
    ref: Ref
    external_id: str
    mrn: str
    service_code: str
    description: str
    unit_amount_cents: int
    service_date: date
    units: int = 1
    appointment_id: str = ""
    visit_date: date | None = None


@dataclass
class ClaimRecord:
    ref: Ref
    external_id: str
    mrn: str
    payer: str
    member_id: str
    status: str
    appointment_id: str = ""
    visit_date: date | None = None
    submitted_on: date | None = None


@dataclass
class AdjudicationRecord:
    ref: Ref
    claim_id: str
    charge_id: str
    allowed_cents: int
    paid_by_insurer_cents: int
    adjustment_cents: int = 0
    adjustment_reason_code: str = ""
    adjustment_reason: str = ""
    copay_cents: int = 0
    coinsurance_cents: int = 0
    deductible_cents: int = 0
    adjudicated_on: date | None = None


@dataclass
class Records:
    charges: list[ChargeRecord] = field(default_factory=list)
    claims: list[ClaimRecord] = field(default_factory=list)
    adjudications: list[AdjudicationRecord] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.charges) + len(self.claims) + len(self.adjudications)


@dataclass(frozen=True)
class RowError:
    """What is wrong, where: REF (a row or a record), FIELD (the record's field) and a sentence."""

    ref: Ref
    field: str
    message: str


@dataclass
class Plan:
    """What applying the records would do; errors mean it may not be applied."""

    errors: list[RowError] = field(default_factory=list)
    new_charges: list[tuple[ChargeRecord, Patient, Appointment | None]] = field(default_factory=list)
    unchanged_charges: int = 0
    new_claims: list[tuple[ClaimRecord, Patient, Appointment]] = field(default_factory=list)
    # Claims whose status moves (existing ones, and new ones decided in the same import).
    moves: list[tuple[ClaimRecord, Claim | None]] = field(default_factory=list)
    unchanged_claims: int = 0
    adjudications: dict[str, list[AdjudicationRecord]] = field(default_factory=dict)  # by claim external id

    @property
    def summary(self) -> dict[str, int]:
        return {
            "charges_created": len(self.new_charges),
            "charges_unchanged": self.unchanged_charges,
            "claims_created": len(self.new_claims),
            "claims_status_changed": sum(1 for record, claim in self.moves if claim is not None),
            "claims_unchanged": self.unchanged_claims,
            "adjudications_recorded": sum(
                len(self.adjudications.get(record.external_id, [])) for record, _ in self.moves
            ),
        }


class ImportRefused(Exception):
    """Applying found errors (the rows changed since the check, or a service refused): nothing was written."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} problem(s)")
        self.errors = errors


def noon_of(day: date | None) -> datetime | None:
    """Noon of DAY in the clinic's zone (a date from an export carries no time)."""
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day, time(12, 0)))
