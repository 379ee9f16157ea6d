"""Helpers of the billing import tests: an export as CSV text, and a visit with an external id."""

from __future__ import annotations

from typing import Any

from careline.billing.imports_csv import COLUMNS
from careline.billing.tests.support import visit_of
from careline.scheduling.models import Appointment
from careline.testing.personas import Personas


def export(*rows: dict[str, Any], columns: tuple[str, ...] = COLUMNS) -> bytes:
    """A practice-management export with COLUMNS and one line per ROW (missing columns blank)."""
    lines = [",".join(columns)]
    for row in rows:
        lines.append(",".join(_cell(row.get(name, "")) for name in columns))
    return ("\n".join(lines) + "\n").encode()


def _cell(value: Any) -> str:
    text = str(value)
    return f'"{text}"' if "," in text or '"' in text else text


def charge_row(mrn: str, **values: Any) -> dict[str, Any]:
    return {
        "record_type": "charge", "external_id": "CHG-1", "mrn": mrn, "appointment_id": "APT-1",
        "service_date": "2030-03-04", "service_code": "99213", "description": "Office visit", "units": "1",
        "unit_amount": "150.00", **values,
    }  # fmt: skip


def claim_row(mrn: str, **values: Any) -> dict[str, Any]:
    return {
        "record_type": "claim", "external_id": "CLM-1", "mrn": mrn, "appointment_id": "APT-1",
        "payer": "Acme Health", "member_id": "M-1", "status": "submitted", **values,
    }  # fmt: skip


def adjudication_row(**values: Any) -> dict[str, Any]:
    """Of a $150.00 charge: $100.00 allowed ($80 paid, $20 copay), $50.00 adjusted (CO-45)."""
    return {
        "record_type": "adjudication", "claim_id": "CLM-1", "charge_id": "CHG-1", "allowed": "100.00",
        "paid_by_insurer": "80.00", "adjustment": "50.00", "adjustment_reason_code": "CO-45", "copay": "20.00",
        **values,
    }  # fmt: skip


def imported_visit(
    personas: Personas, external_id: str = "APT-1", patient: Any = None, days: int = 0
) -> Appointment:
    """A completed visit of PATIENT (Pat) whose appointment came from the scheduling import as EXTERNAL_ID."""
    visit = visit_of(personas, patient, days=days)
    visit.external_id = external_id
    visit.save(update_fields=["external_id"])
    return visit
