"""Import of a practice-management export: charges, claims and adjudications, checked in full, then applied at once.

Both ways in (the CSV upload, `careline.billing.imports_csv`; the API, `careline.billing.api`) turn their input
into the records below, each with a REF saying where it came from (a CSV row number, or ("charges", 3) for the
API), and call `billing_import_check` (writes nothing) and `billing_import_apply` (checks again and writes
everything in one transaction, or nothing).

The rules (docs/architecture.md, "Billing import"):
- A charge is found by its EXTERNAL_ID. Already recorded with the same values: unchanged (re-import changes
  nothing). Recorded with other values: a row error (an import never rewrites money; void and re-issue).
- A claim is found by its EXTERNAL_ID (its claim number). New: submitted, then decided when its status is
  paid or denied. Existing: its status moves submitted -> paid/denied, paid/denied -> appealed, appealed ->
  paid/denied (publishing ClaimStatusChanged); any other move is a row error.
- Adjudications belong to a claim whose status in the import is paid or denied, name the claim and the charge
  by their external ids, and must fit the charge: allowed + adjustment = the charge, paid by insurer +
  copay + coinsurance + deductible = allowed, and, with the charge's decisions on other claims, never more
  than the charge.
- Patients are matched by MRN among the patients the importing user may see; visits by the appointment's
  external id, or by the patient's one appointment on VISIT_DATE.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from careline.billing.models import (
    FINAL_CLAIM_STATUSES,
    MAX_AMOUNT_CENTS,
    Adjudication,
    Charge,
    Claim,
    ClaimStatus,
    default_currency,
)
from careline.billing.money import format_money
from careline.billing.services.charges import (
    MAX_UNITS,
)
from careline.billing.services.import_records import (
    AMOUNT_FIELDS,
    AdjudicationRecord,
    ChargeRecord,
    ClaimRecord,
    ImportRefused,
    Plan,
    Records,
    Ref,
    RowError,
    noon_of,
)
from careline.billing.services.import_writer import import_plan_write
from careline.core.actor import Actor
from careline.core.text import has_control_characters
from careline.patients.models import Patient
from careline.patients.queries import patients_visible_to
from careline.scheduling.models import Appointment, AppointmentStatus

CANCELLED = {
    AppointmentStatus.CANCELLED_PATIENT,
    AppointmentStatus.CANCELLED_CLINIC,
    AppointmentStatus.RESCHEDULED,
}
TEXT_LIMITS = {
    "external_id": 100,
    "mrn": 32,
    "appointment_id": 64,
    "service_code": 20,
    "description": 200,
    "payer": 120,
    "member_id": 60,
    "claim_id": 100,
    "charge_id": 100,
    "adjustment_reason_code": 10,
    "adjustment_reason": 200,
}


def _money(cents: int) -> str:
    return format_money(cents, default_currency())


class _Checker:
    """One pass over the records against the database; every problem is collected."""

    def __init__(self, records: Records, user: Any) -> None:
        self.records = records
        self.user = user
        self.plan = Plan()
        self.invalid_charges: set[str] = set()
        self.invalid_claims: set[str] = set()

    def err(self, ref: Ref, name: str, message: str) -> None:
        self.plan.errors.append(RowError(ref, name, message))

    # -- texts and amounts common to every record ---------------------------------------------------------

    def _texts(self, record: Any, required: tuple[str, ...]) -> bool:
        ok = True
        for name in required:
            if not str(getattr(record, name) or "").strip():
                self.err(record.ref, name, "Required.")
                ok = False
        for name, limit in TEXT_LIMITS.items():
            value = getattr(record, name, None)
            if not isinstance(value, str):
                continue
            setattr(record, name, value.strip())
            if has_control_characters(value):
                self.err(record.ref, name, "Contains control characters; remove them.")
                ok = False
            elif len(value.strip()) > limit:
                self.err(record.ref, name, f"Longer than {limit} characters.")
                ok = False
        return ok

    def _amount(self, record: Any, name: str) -> bool:
        value = getattr(record, name)
        if value < 0:
            self.err(record.ref, name, "An amount is never negative.")
            return False
        if value > MAX_AMOUNT_CENTS:
            self.err(record.ref, name, f"More than any one entry may be ({_money(MAX_AMOUNT_CENTS)}).")
            return False
        return True

    # -- patients and visits --------------------------------------------------------------------------------

    def load(self) -> None:
        r = self.records
        visited: list[ChargeRecord | ClaimRecord] = [*r.charges, *r.claims]
        mrns = {x.mrn.strip() for x in visited if x.mrn}
        self.patients = {p.mrn: p for p in patients_visible_to(self.user).filter(mrn__in=mrns)}
        appointment_ids = {x.appointment_id.strip() for x in visited if x.appointment_id}
        self.appointments = {
            a.external_id: a for a in Appointment.objects.filter(external_id__in=appointment_ids)
        }
        days = [x.visit_date for x in visited if x.visit_date and not x.appointment_id]
        by_day: dict[tuple[int, date], list[Appointment]] = defaultdict(list)
        if days and self.patients:
            candidates = Appointment.objects.filter(
                patient__in=self.patients.values(),
                starts_at__gte=noon_of(min(days) - timedelta(days=2)),
                starts_at__lte=noon_of(max(days) + timedelta(days=2)),
            ).select_related("location")
            for appointment in candidates:
                if appointment.status in CANCELLED:
                    continue
                local = timezone.localtime(appointment.starts_at, appointment.location.zone).date()
                by_day[(appointment.patient_id, local)].append(appointment)
        self.by_day = by_day
        self.charges = {
            c.external_id: c
            for c in Charge.objects.filter(external_id__in={x.external_id.strip() for x in r.charges})
        }
        claim_ids = {x.external_id.strip() for x in r.claims} | {x.claim_id.strip() for x in r.adjudications}
        self.claims = {c.external_id: c for c in Claim.objects.filter(external_id__in=claim_ids - {""})}
        charge_ids = {x.charge_id.strip() for x in r.adjudications} - set(self.charges) - {""}
        self.charges.update({c.external_id: c for c in Charge.objects.filter(external_id__in=charge_ids)})

    def _patient(self, record: Any) -> Patient | None:
        if not record.mrn:
            return None
        patient = self.patients.get(record.mrn)
        if patient is None:
            self.err(record.ref, "mrn", "No patient you may see has this MRN.")
        return patient

    def _visit(
        self, record: Any, patient: Patient | None, *, required: bool
    ) -> tuple[bool, Appointment | None]:
        """(ok, the visit) of RECORD: by appointment_id, else by visit_date, else none (when not REQUIRED)."""
        if record.appointment_id:
            visit = self.appointments.get(record.appointment_id)
            if visit is None:
                self.err(record.ref, "appointment_id", "No appointment has this external id.")
                return False, None
            if patient is not None and visit.patient_id != patient.pk:
                self.err(record.ref, "appointment_id", "That appointment is another patient's.")
                return False, None
            return True, visit
        if record.visit_date is not None:
            if patient is None:
                return False, None
            found = self.by_day.get((patient.pk, record.visit_date), [])
            if not found:
                self.err(record.ref, "visit_date", "The patient has no appointment on this date.")
                return False, None
            if len(found) > 1:
                self.err(
                    record.ref,
                    "visit_date",
                    "The patient has several appointments on this date; give the appointment_id.",
                )
                return False, None
            return True, found[0]
        if required:
            self.err(record.ref, "appointment_id", "Give the appointment_id or the visit_date of the visit.")
            return False, None
        return True, None

    # -- charges ----------------------------------------------------------------------------------------------

    def check_charges(self) -> None:
        seen: dict[str, Ref] = {}
        self.file_charges: dict[str, tuple[ChargeRecord, Patient, Appointment | None]] = {}
        for record in self.records.charges:
            ok = self._texts(record, ("external_id", "mrn", "service_code", "description"))
            if record.external_id in seen:
                self.err(
                    record.ref,
                    "external_id",
                    f"Same external id as the charge at {seen[record.external_id]}.",
                )
                ok = False
            elif record.external_id:
                seen[record.external_id] = record.ref
            if not 1 <= record.units <= MAX_UNITS:
                self.err(record.ref, "units", f"Units are a whole number from 1 to {MAX_UNITS}.")
                ok = False
            ok = self._amount(record, "unit_amount_cents") and ok
            if ok and record.units * record.unit_amount_cents > MAX_AMOUNT_CENTS:
                self.err(record.ref, "units", "That charge is larger than any one charge may be.")
                ok = False
            patient = self._patient(record)
            visit_ok, visit = self._visit(record, patient, required=False)
            if not (ok and visit_ok and patient is not None):
                self.invalid_charges.add(record.external_id)
                continue
            self.file_charges[record.external_id] = (record, patient, visit)
            existing = self.charges.get(record.external_id)
            if existing is None:
                self.plan.new_charges.append((record, patient, visit))
                continue
            differences = [
                (name, label)
                for name, label, now, then in (
                    ("mrn", "patient", existing.patient_id, patient.pk),
                    ("appointment_id", "visit", existing.visit_id, visit.pk if visit else None),
                    ("service_code", "service code", existing.service_code, record.service_code),
                    ("description", "description", existing.description, record.description),
                    ("units", "units", existing.units, record.units),
                    (
                        "unit_amount_cents",
                        "unit amount",
                        existing.unit_amount_cents,
                        record.unit_amount_cents,
                    ),
                    ("service_date", "service date", existing.service_date, record.service_date),
                )
                if now != then
            ]
            if differences:
                name, label = differences[0]
                self.err(
                    record.ref,
                    name,
                    f"A charge with this external id is already recorded with another {label}; an import "
                    "does not change a recorded charge (void it and import the corrected line under a new id).",
                )
            else:
                self.plan.unchanged_charges += 1

    # -- claims -----------------------------------------------------------------------------------------------

    def _move_problem(self, claim: Claim, status: str) -> str | None:
        """Why CLAIM may not move to STATUS, or None."""
        current = claim.status
        allowed = {
            ClaimStatus.SUBMITTED: {ClaimStatus.PAID, ClaimStatus.DENIED},
            ClaimStatus.PAID: {ClaimStatus.APPEALED},
            ClaimStatus.DENIED: {ClaimStatus.APPEALED},
            ClaimStatus.APPEALED: {ClaimStatus.PAID, ClaimStatus.DENIED},
        }[ClaimStatus(current)]
        if status in allowed:
            return None
        if current in FINAL_CLAIM_STATUSES:
            return f"This claim is already {current}; it can only be appealed (status appealed)."
        if current == ClaimStatus.APPEALED:
            return "An appealed claim is answered paid or denied; it does not go back to submitted."
        return "Only a paid or denied claim can be appealed."

    def check_claims(self) -> None:
        seen: dict[str, Ref] = {}
        self.file_claims: dict[str, tuple[ClaimRecord, Patient, Appointment]] = {}
        for record in self.records.claims:
            record.status = (record.status or "").strip().lower()
            ok = self._texts(record, ("external_id", "mrn", "payer", "member_id", "status"))
            if record.external_id in seen:
                self.err(
                    record.ref, "external_id", f"Same claim external id as at {seen[record.external_id]}."
                )
                ok = False
            elif record.external_id:
                seen[record.external_id] = record.ref
            if record.status and record.status not in ClaimStatus.values:
                self.err(record.ref, "status", "Use submitted, paid, denied or appealed.")
                ok = False
            patient = self._patient(record)
            visit_ok, visit = self._visit(record, patient, required=True)
            if not (ok and visit_ok and patient is not None and visit is not None):
                self.invalid_claims.add(record.external_id)
                continue
            self.file_claims[record.external_id] = (record, patient, visit)
            existing = self.claims.get(record.external_id)
            if existing is None:
                if record.status == ClaimStatus.APPEALED:
                    self.err(
                        record.ref,
                        "status",
                        "A claim new to Careline cannot start appealed: import it with the payer's first "
                        "answer (paid or denied), then as appealed.",
                    )
                    continue
                self.plan.new_claims.append((record, patient, visit))
                if record.status != ClaimStatus.SUBMITTED:
                    self.plan.moves.append((record, None))
                continue
            for name, now, then in (
                ("mrn", existing.patient_id, patient.pk),
                ("appointment_id", existing.visit_id, visit.pk),
                ("payer", existing.payer, record.payer),
                ("member_id", existing.member_id, record.member_id),
            ):
                if now != then:
                    self.err(
                        record.ref,
                        name,
                        f"The claim with this external id is recorded with another {name.replace('_', ' ')}.",
                    )
                    break
            else:
                if existing.status == record.status:
                    self.plan.unchanged_claims += 1
                else:
                    problem = self._move_problem(existing, record.status)
                    if problem:
                        self.err(record.ref, "status", problem)
                    else:
                        self.plan.moves.append((record, existing))

    # -- adjudications ------------------------------------------------------------------------------------

    def check_adjudications(self) -> None:
        moving = {record.external_id for record, _ in self.plan.moves}
        seen: dict[tuple[str, str], Ref] = {}
        # What other claims' decisions already give each charge (insurer + patient share), and this file's.
        decided: dict[int, list[tuple[int, int]]] = defaultdict(list)  # charge pk -> [(claim pk, cents)]
        existing_charge_ids = [c.pk for c in self.charges.values()]
        for adjudication in Adjudication.objects.filter(
            charge_id__in=existing_charge_ids, claim__status__in=FINAL_CLAIM_STATUSES
        ):
            decided[adjudication.charge_id].append((adjudication.claim_id, adjudication.allowed_cents))
        in_file: dict[str, int] = defaultdict(int)  # charge external id -> allowed in this file
        for record in self.records.adjudications:
            ok = self._texts(record, ("claim_id", "charge_id"))
            key = (record.claim_id, record.charge_id)
            if ok and key in seen:
                self.err(
                    record.ref,
                    "charge_id",
                    f"This charge is already adjudicated for this claim at {seen[key]}.",
                )
                ok = False
            seen.setdefault(key, record.ref)
            for name in AMOUNT_FIELDS:
                ok = self._amount(record, name) and ok
            if not ok:
                continue
            claim_entry = self.file_claims.get(record.claim_id)
            claim = self.claims.get(record.claim_id)
            if claim_entry is None and record.claim_id in self.invalid_claims:
                continue  # the claim's own row is in error
            if claim_entry is None:
                if claim is None:
                    self.err(
                        record.ref,
                        "claim_id",
                        "No claim with this external id, in this import or in Careline.",
                    )
                else:
                    self.err(
                        record.ref,
                        "claim_id",
                        "Import the claim (with status paid or denied) together with its adjudications.",
                    )
                continue
            claim_record, patient, visit = claim_entry
            file_charge = self.file_charges.get(record.charge_id)
            charge = self.charges.get(record.charge_id)
            if file_charge is None and record.charge_id in self.invalid_charges:
                continue  # the charge's own row is in error
            if file_charge is None and charge is None:
                self.err(
                    record.ref, "charge_id", "No charge with this external id, in this import or in Careline."
                )
                continue
            visit_id = (
                file_charge[2].pk if file_charge and file_charge[2] else (charge.visit_id if charge else None)
            )
            patient_id = file_charge[1].pk if file_charge else (charge.patient_id if charge else None)
            amount = (
                file_charge[0].units * file_charge[0].unit_amount_cents
                if file_charge
                else charge.amount_cents  # type: ignore[union-attr]
            )
            if visit_id != visit.pk or patient_id != patient.pk:
                self.err(record.ref, "charge_id", "That charge is not on the claim's visit.")
                continue
            if charge is not None and charge.voided:
                self.err(record.ref, "charge_id", "That charge is voided.")
                continue
            if claim_record.status not in FINAL_CLAIM_STATUSES:
                self.err(
                    record.ref,
                    "claim_id",
                    f"Adjudications come with a paid or denied claim; this claim is {claim_record.status or 'blank'}.",
                )
                continue
            if not self._fits(record, amount):
                continue
            if record.claim_id not in moving:
                # The claim keeps its (final) status: its decisions stand as recorded.
                if claim is None or not self._same_as_recorded(record, claim, charge):
                    self.err(
                        record.ref,
                        "claim_id",
                        f"This claim is already {claim_record.status} with another decision for this charge; "
                        "import the claim as appealed first, then with the new answer.",
                    )
                continue
            others = sum(
                cents
                for claim_pk, cents in decided.get(charge.pk if charge else -1, [])
                if claim is None or claim_pk != claim.pk
            )
            if others + in_file[record.charge_id] + record.allowed_cents > amount:
                self.err(
                    record.ref,
                    "allowed_cents",
                    f"With this charge's decisions on other claims ({_money(others + in_file[record.charge_id])}), "
                    f"the adjudications would exceed the charge ({_money(amount)}).",
                )
                continue
            in_file[record.charge_id] += record.allowed_cents
            self.plan.adjudications.setdefault(record.claim_id, []).append(record)

    def _fits(self, record: AdjudicationRecord, amount: int) -> bool:
        """Whether RECORD's amounts add up against a charge of AMOUNT cents (errors reported)."""
        if record.allowed_cents > amount:
            self.err(
                record.ref,
                "allowed_cents",
                f"The allowed amount ({_money(record.allowed_cents)}) is more than the charge ({_money(amount)}).",
            )
            return False
        if record.allowed_cents + record.adjustment_cents != amount:
            self.err(
                record.ref,
                "adjustment_cents",
                f"The allowed amount ({_money(record.allowed_cents)}) and the adjustment "
                f"({_money(record.adjustment_cents)}) must add up to the charge ({_money(amount)}).",
            )
            return False
        shares = (
            record.paid_by_insurer_cents
            + record.copay_cents
            + record.coinsurance_cents
            + record.deductible_cents
        )
        if shares != record.allowed_cents:
            self.err(
                record.ref,
                "paid_by_insurer_cents",
                f"What insurance paid and the patient's share (copay, coinsurance, deductible) add up to "
                f"{_money(shares)}, not the allowed amount ({_money(record.allowed_cents)}).",
            )
            return False
        if record.adjustment_cents and not (record.adjustment_reason_code or record.adjustment_reason):
            self.err(
                record.ref, "adjustment_reason", "Give the reason for the adjustment (a code or a text)."
            )
            return False
        return True

    def _same_as_recorded(self, record: AdjudicationRecord, claim: Claim, charge: Charge | None) -> bool:
        if charge is None:
            return False
        recorded = Adjudication.objects.filter(claim=claim, charge=charge).first()
        return recorded is not None and all(
            getattr(recorded, name) == getattr(record, name) for name in AMOUNT_FIELDS
        )

    def run(self) -> Plan:
        self.load()
        self.check_charges()
        self.check_claims()
        self.check_adjudications()
        order = {ref: i for i, ref in enumerate(_refs(self.records))}
        self.plan.errors.sort(key=lambda e: order.get(e.ref, -1))
        return self.plan


def _refs(records: Records) -> list[Ref]:
    every: list[Any] = [*records.charges, *records.claims, *records.adjudications]
    return [x.ref for x in every]


def billing_import_check(*, records: Records, user: Any) -> Plan:
    """What importing RECORDS as USER would do, or the problems by record and field. Writes nothing."""
    if not len(records):
        return Plan(errors=[RowError(None, "", "There is nothing to import.")])
    return _Checker(records, user).run()


def billing_import_apply(*, records: Records, actor: Actor) -> Plan:
    """Check RECORDS again and apply them in one transaction (audited by each service); ImportRefused if any
    problem, with nothing written."""
    try:
        with transaction.atomic():
            plan = billing_import_check(records=records, user=actor.user)
            if plan.errors:
                raise ImportRefused(plan.errors)
            import_plan_write(plan, actor)
    except IntegrityError:
        # Another import (or a person) recorded one of these ids between the check and the write.
        raise ImportRefused(
            [
                RowError(
                    None,
                    "",
                    "Some of these records were recorded by someone else meanwhile. Nothing was imported; try again.",
                )
            ]
        ) from None
    return plan
