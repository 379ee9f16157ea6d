"""The billing import's rules, on the CSV path: all or nothing, row errors, idempotent, claim moves, amounts."""

from __future__ import annotations

from typing import Any

import pytest

from careline.billing.events import ClaimStatusChanged
from careline.billing.imports_csv import csv_records, error_of
from careline.billing.models import Adjudication, Charge, Claim, ClaimStatus
from careline.billing.queries import patient_balance
from careline.billing.services.imports import ImportRefused, billing_import_apply, billing_import_check
from careline.billing.tests.import_support import (
    adjudication_row,
    charge_row,
    claim_row,
    export,
    imported_visit,
)
from careline.billing.tests.support import billing_actor
from careline.core.events import Phase, subscribe, unsubscribe
from careline.core.models import AuditEntry
from careline.testing.personas import Personas

pytestmark = pytest.mark.django_db


def _check(personas: Personas, data: bytes) -> list[dict[str, Any]]:
    """The problems of DATA as billing_a imports it (form, then meaning)."""
    parsed = csv_records(data)
    if parsed.errors:
        return parsed.errors
    return [error_of(p) for p in billing_import_check(records=parsed.records, user=personas.billing_a).errors]


def _apply(personas: Personas, data: bytes) -> dict[str, int]:
    parsed = csv_records(data)
    assert parsed.errors == []
    return billing_import_apply(records=parsed.records, actor=billing_actor(personas)).summary


def _where(errors: list[dict[str, Any]]) -> list[tuple[Any, str]]:
    return [(e["row"], e["column"]) for e in errors]


@pytest.fixture
def events() -> Any:
    seen: list[ClaimStatusChanged] = []
    subscribe(ClaimStatusChanged, seen.append, phase=Phase.IN_TRANSACTION)
    yield seen
    unsubscribe(ClaimStatusChanged, seen.append, phase=Phase.IN_TRANSACTION)


def test_a_paid_claim_with_its_charge_and_adjudication_imports_and_the_patient_owes_the_copay(
    personas: Personas, events: list[ClaimStatusChanged]
) -> None:
    visit = imported_visit(personas)
    mrn = personas.pat.mrn
    summary = _apply(personas, export(charge_row(mrn), claim_row(mrn, status="paid"), adjudication_row()))
    assert summary == {
        "charges_created": 1, "charges_unchanged": 0, "claims_created": 1, "claims_status_changed": 0,
        "claims_unchanged": 0, "adjudications_recorded": 1,
    }  # fmt: skip
    charge = Charge.objects.get(external_id="CHG-1")
    assert (charge.visit, charge.amount_cents, charge.patient) == (visit, 15_000, personas.pat)
    claim = Claim.objects.get(external_id="CLM-1")
    assert claim.status == ClaimStatus.PAID
    assert Adjudication.objects.get(claim=claim, charge=charge).copay_cents == 2_000
    assert patient_balance(personas.pat).due == 2_000
    assert [(e.from_status, e.to_status, e.is_final) for e in events] == [("submitted", "paid", True)]
    assert AuditEntry.objects.filter(patient_id=personas.pat.pk, object_type="billing.charge").exists()


def test_importing_the_same_export_again_changes_nothing(personas: Personas, events: list[Any]) -> None:
    imported_visit(personas)
    mrn = personas.pat.mrn
    data = export(charge_row(mrn), claim_row(mrn, status="paid"), adjudication_row())
    _apply(personas, data)
    events.clear()
    again = _apply(personas, data)
    assert again == {
        "charges_created": 0, "charges_unchanged": 1, "claims_created": 0, "claims_status_changed": 0,
        "claims_unchanged": 1, "adjudications_recorded": 0,
    }  # fmt: skip
    assert (Charge.objects.count(), Claim.objects.count(), Adjudication.objects.count()) == (1, 1, 1)
    assert events == []
    assert patient_balance(personas.pat).due == 2_000


def test_a_later_export_moves_a_submitted_claim_to_paid_then_appealed_then_denied(
    personas: Personas, events: list[ClaimStatusChanged]
) -> None:
    imported_visit(personas)
    mrn = personas.pat.mrn
    _apply(personas, export(charge_row(mrn), claim_row(mrn)))
    assert patient_balance(personas.pat).due == 0
    assert (
        _apply(personas, export(claim_row(mrn, status="paid"), adjudication_row()))["claims_status_changed"]
        == 1
    )
    assert patient_balance(personas.pat).due == 2_000
    _apply(personas, export(claim_row(mrn, status="appealed")))
    assert patient_balance(personas.pat).due == 0  # an appealed claim is not final
    denied = adjudication_row(allowed="0", paid_by_insurer="0", adjustment="150.00", copay="0")
    _apply(personas, export(claim_row(mrn, status="denied"), denied))
    assert [(e.from_status, e.to_status) for e in events] == [
        ("submitted", "paid"), ("paid", "appealed"), ("appealed", "denied"),
    ]  # fmt: skip
    assert Claim.objects.get().status == ClaimStatus.DENIED


@pytest.mark.parametrize(
    ("current", "wanted", "message"),
    [
        ("paid", "submitted", "already paid; it can only be appealed"),
        ("paid", "denied", "already paid; it can only be appealed"),
        ("submitted", "appealed", "Only a paid or denied claim can be appealed"),
    ],
)
def test_a_claim_move_the_payer_cannot_make_is_a_row_error(
    personas: Personas, current: str, wanted: str, message: str
) -> None:
    imported_visit(personas)
    mrn = personas.pat.mrn
    first = [charge_row(mrn), claim_row(mrn, status=current)]
    _apply(personas, export(*first, *([adjudication_row()] if current == "paid" else [])))
    errors = _check(personas, export(claim_row(mrn, status=wanted)))
    assert _where(errors) == [(2, "status")]
    assert message in errors[0]["message"]


def test_one_bad_row_imports_nothing(personas: Personas) -> None:
    imported_visit(personas)
    mrn = personas.pat.mrn
    data = export(charge_row(mrn), charge_row(mrn, external_id="CHG-2", unit_amount="abc"), claim_row(mrn))
    assert _where(_check(personas, data)) == [(3, "unit_amount")]
    parsed = csv_records(
        export(charge_row(mrn), charge_row("NO-SUCH-MRN", external_id="CHG-2"), claim_row(mrn))
    )
    with pytest.raises(ImportRefused) as refused:
        billing_import_apply(records=parsed.records, actor=billing_actor(personas))
    assert [(e.ref, e.field) for e in refused.value.errors] == [(3, "mrn")]
    assert (Charge.objects.count(), Claim.objects.count()) == (0, 0)


def test_a_service_refusal_while_applying_rolls_back_the_rows_already_written(
    personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core.exceptions import ValidationError

    from careline.billing.services import import_writer

    def refuse(**kwargs: Any) -> None:
        raise ValidationError({"payer": "Refused by the service."})

    imported_visit(personas)
    mrn = personas.pat.mrn
    parsed = csv_records(export(charge_row(mrn), claim_row(mrn)))
    monkeypatch.setattr(import_writer, "claim_submit", refuse)
    with pytest.raises(ImportRefused) as refused:
        billing_import_apply(records=parsed.records, actor=billing_actor(personas))
    assert [(e.ref, e.field, e.message) for e in refused.value.errors] == [
        (3, "payer", "Refused by the service.")
    ]
    assert Charge.objects.count() == 0


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        ({"mrn": ""}, "mrn", "Required."),
        ({"mrn": "NOPE"}, "mrn", "No patient you may see has this MRN."),
        ({"external_id": ""}, "external_id", "Required."),
        ({"service_code": ""}, "service_code", "Required."),
        ({"service_code": "X" * 21}, "service_code", "Longer than 20 characters."),
        ({"description": "bad\x00text"}, "description", "control characters"),
        ({"units": "0"}, "units", "from 1 to 999"),
        ({"units": "1.5"}, "units", "whole number"),
        ({"unit_amount": "-5"}, "unit_amount", "never negative"),
        ({"unit_amount": "12.345"}, "unit_amount", "at most two decimals"),
        ({"unit_amount": "99999999"}, "unit_amount", "up to"),
        ({"service_date": "04/31/2030"}, "service_date", "YYYY-MM-DD"),
        ({"service_date": ""}, "service_date", "Required."),
        ({"service_date": "1700-01-01"}, "service_date", ""),
        ({"appointment_id": "APT-404"}, "appointment_id", "No appointment has this external id."),
        ({"appointment_id": "", "visit_date": "2030-05-05"}, "visit_date", "no appointment on this date"),
        ({"record_type": "invoice"}, "record_type", "Use charge, claim or adjudication."),
    ],
)
def test_each_bad_charge_value_is_reported_at_its_row_and_column(
    personas: Personas, row: dict[str, str], column: str, message: str
) -> None:
    imported_visit(personas)
    errors = _check(personas, export(charge_row(**{"mrn": personas.pat.mrn, **row})))
    assert _where(errors) == [(2, column)]
    assert message in errors[0]["message"]


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        ({"status": "pending"}, "status", "Use submitted, paid, denied or appealed."),
        ({"status": "appealed"}, "status", "cannot start appealed"),
        ({"payer": ""}, "payer", "Required."),
        ({"member_id": ""}, "member_id", "Required."),
        ({"appointment_id": ""}, "appointment_id", "Give the appointment_id or the visit_date"),
        ({"submitted_on": "yesterday"}, "submitted_on", "YYYY-MM-DD"),
    ],
)
def test_each_bad_claim_value_is_reported_at_its_row_and_column(
    personas: Personas, row: dict[str, str], column: str, message: str
) -> None:
    imported_visit(personas)
    errors = _check(personas, export(claim_row(personas.pat.mrn, **row)))
    assert _where(errors) == [(2, column)]
    assert message in errors[0]["message"]


@pytest.mark.parametrize(
    ("row", "claim_status", "column", "message"),
    [
        ({"allowed": "200.00", "adjustment": "0"}, "paid", "allowed", "is more than the charge ($150.00)"),
        ({"adjustment": "40.00"}, "paid", "adjustment", "must add up to the charge"),
        ({"paid_by_insurer": "90.00"}, "paid", "paid_by_insurer", "add up to $110.00, not the allowed"),
        ({"adjustment_reason_code": ""}, "paid", "adjustment_reason", "reason for the adjustment"),
        ({}, "submitted", "claim_id", "paid or denied claim; this claim is submitted"),
        ({"claim_id": "CLM-404"}, "paid", "claim_id", "No claim with this external id"),
        ({"charge_id": "CHG-404"}, "paid", "charge_id", "No charge with this external id"),
        ({"copay": "-1"}, "paid", "copay", "never negative"),
        ({"allowed": ""}, "paid", "allowed", "Required."),
    ],
)
def test_each_bad_adjudication_is_reported_at_its_row_and_column(
    personas: Personas, row: dict[str, str], claim_status: str, column: str, message: str
) -> None:
    imported_visit(personas)
    mrn = personas.pat.mrn
    errors = _check(
        personas, export(charge_row(mrn), claim_row(mrn, status=claim_status), adjudication_row(**row))
    )
    assert _where(errors) == [(4, column)]
    assert message in errors[0]["message"]


def test_a_charge_of_another_visit_cannot_be_adjudicated_on_the_claim(personas: Personas) -> None:
    imported_visit(personas)
    imported_visit(personas, "APT-2", days=7)
    mrn = personas.pat.mrn
    data = export(charge_row(mrn, appointment_id="APT-2"), claim_row(mrn, status="paid"), adjudication_row())
    assert _where(_check(personas, data)) == [(4, "charge_id")]


def test_adjudications_of_one_charge_on_two_claims_cannot_exceed_the_charge(personas: Personas) -> None:
    imported_visit(personas)
    mrn = personas.pat.mrn
    _apply(personas, export(charge_row(mrn), claim_row(mrn, status="paid"), adjudication_row()))
    second = claim_row(mrn, external_id="CLM-2", payer="Second Payer", status="paid")
    errors = _check(personas, export(second, adjudication_row(claim_id="CLM-2")))
    assert _where(errors) == [(3, "allowed")]
    assert "would exceed the charge ($150.00)" in errors[0]["message"]


def test_a_final_claims_decision_is_not_rewritten_by_a_re_import(personas: Personas) -> None:
    imported_visit(personas)
    mrn = personas.pat.mrn
    _apply(personas, export(charge_row(mrn), claim_row(mrn, status="paid"), adjudication_row()))
    changed = adjudication_row(paid_by_insurer="70.00", copay="30.00")
    errors = _check(personas, export(claim_row(mrn, status="paid"), changed))
    assert _where(errors) == [(3, "claim_id")]
    assert "appealed first" in errors[0]["message"]


def test_a_recorded_charge_with_other_values_is_a_row_error_not_a_change(personas: Personas) -> None:
    imported_visit(personas)
    mrn = personas.pat.mrn
    _apply(personas, export(charge_row(mrn)))
    errors = _check(personas, export(charge_row(mrn, unit_amount="175.00")))
    assert _where(errors) == [(2, "unit_amount")]
    assert "already recorded with another unit amount" in errors[0]["message"]
    assert Charge.objects.get().amount_cents == 15_000


def test_duplicates_in_one_file_are_row_errors(personas: Personas) -> None:
    imported_visit(personas)
    mrn = personas.pat.mrn
    errors = _check(personas, export(charge_row(mrn), charge_row(mrn), claim_row(mrn), claim_row(mrn)))
    assert _where(errors) == [(3, "external_id"), (5, "external_id")]


def test_visits_are_matched_by_date_when_the_appointment_id_is_blank(personas: Personas) -> None:
    visit = imported_visit(personas)
    mrn = personas.pat.mrn
    _apply(personas, export(charge_row(mrn, appointment_id="", visit_date="2030-03-04")))
    assert Charge.objects.get().visit == visit


def test_a_patient_of_another_location_is_not_found_by_mrn(personas: Personas) -> None:
    imported_visit(personas, patient=personas.quinn)
    errors = _check(personas, export(charge_row(personas.quinn.mrn)))
    assert ("mrn", "No patient you may see has this MRN.") in [(e["column"], e["message"]) for e in errors]


def test_an_appointment_of_another_patient_is_refused(personas: Personas) -> None:
    imported_visit(personas, "APT-Q", patient=personas.quinn)
    imported_visit(personas)
    errors = _check(personas, export(charge_row(personas.pat.mrn, appointment_id="APT-Q")))
    assert errors == [
        {"row": 2, "column": "appointment_id", "message": "That appointment is another patient's."}
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"record_type,external_id\n", "header row but no records"),
        (b"\xff\xfe,bad", "not UTF-8"),
        (b"record_type,colour\ncharge,red\n", "Unknown column."),
        (b"external_id\nCHG-1\n", "Required column is missing."),
        (b"record_type,record_type\ncharge,charge\n", "appears more than once"),
        (b"record_type\ncharge,extra\n", "more values than the header"),
    ],
)
def test_problems_of_the_file_itself_are_reported(personas: Personas, data: bytes, message: str) -> None:
    errors = _check(personas, data)
    assert any(message in e["message"] for e in errors), errors
