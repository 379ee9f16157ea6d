"""The practice-management CSV export: one file, one row per record, a `record_type` column saying which.

Columns (the header row names them, in any order, case-insensitive; a column a row's type does not use is
ignored for that row). Rows are numbered as in a spreadsheet: the header is row 1. Amounts are money as the
export writes it ("125.00", "$1,250.50"); dates are YYYY-MM-DD or MM/DD/YYYY.

    record_type*   charge | claim | adjudication
    charge:        external_id*, mrn*, appointment_id or visit_date (optional: a charge may be on no visit),
                   service_date*, service_code*, description*, units (blank: 1), unit_amount*
    claim:         external_id* (the claim number), mrn*, appointment_id or visit_date*, payer*, member_id*,
                   status* (submitted, paid, denied, appealed), submitted_on (blank: today)
    adjudication:  claim_id* (the claim's external_id), charge_id* (the charge's external_id), allowed*,
                   paid_by_insurer*, adjustment, adjustment_reason_code, adjustment_reason, copay,
                   coinsurance, deductible (blank: 0), adjudicated_on (blank: today)

The rules of what an import does are in `careline.billing.services.imports`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from careline.billing.money import parse_money
from careline.billing.services.imports import (
    AdjudicationRecord,
    ChargeRecord,
    ClaimRecord,
    Records,
    RowError,
)
from careline.core.dates import DateOutOfRangeError, check_date

RECORD_TYPES = ("charge", "claim", "adjudication")
COLUMNS = (
    "record_type", "external_id", "mrn", "appointment_id", "visit_date", "service_date", "service_code",
    "description", "units", "unit_amount", "payer", "member_id", "status", "submitted_on", "claim_id",
    "charge_id", "allowed", "paid_by_insurer", "adjustment", "adjustment_reason_code", "adjustment_reason",
    "copay", "coinsurance", "deductible", "adjudicated_on",
)  # fmt: skip
# The record's field behind a money column (errors name the column the file has).
MONEY_COLUMNS = {
    "unit_amount": "unit_amount_cents",
    "allowed": "allowed_cents",
    "paid_by_insurer": "paid_by_insurer_cents",
    "adjustment": "adjustment_cents",
    "copay": "copay_cents",
    "coinsurance": "coinsurance_cents",
    "deductible": "deductible_cents",
}
COLUMN_OF_FIELD = {name: column for column, name in MONEY_COLUMNS.items()}
MAX_ROWS = 50_000


def csv_error(row: int | None, column: str, message: str) -> dict[str, Any]:
    """One problem as the import pages show it (the patient import's shape)."""
    return {"row": row, "column": column, "message": message}


def error_of(problem: RowError) -> dict[str, Any]:
    """A checker's problem with the column the CSV has (amounts are "allowed", not "allowed_cents")."""
    return csv_error(problem.ref, COLUMN_OF_FIELD.get(problem.field, problem.field), problem.message)


@dataclass
class Parsed:
    """The file's records, or its problems (file-level or per row and column)."""

    records: Records = field(default_factory=Records)
    errors: list[dict[str, Any]] = field(default_factory=list)
    total_rows: int = 0


def _date(text: str) -> date:
    for pattern in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            day = datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        return check_date(day)
    raise ValueError("Use YYYY-MM-DD or MM/DD/YYYY.")


def csv_text(data: bytes) -> tuple[str, list[dict[str, Any]]]:
    """DATA decoded, or the file-level problem (size, encoding)."""
    if len(data) > settings.CARELINE_MAX_IMPORT_BYTES:
        limit = settings.CARELINE_MAX_IMPORT_BYTES // (1024 * 1024) or 1
        return "", [csv_error(None, "", f"The file is larger than {limit} MB. Split it into smaller files.")]
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        return "", [
            csv_error(None, "", "The file is not UTF-8 text. In your spreadsheet, save it as “CSV UTF-8”.")
        ]


def csv_parse(text: str) -> Parsed:
    """The records of the export TEXT; every problem of form (not of meaning) by row and column."""
    parsed = Parsed()
    try:
        rows = [row for row in csv.reader(io.StringIO(text, newline="")) if any(v.strip() for v in row)]
    except csv.Error as exc:
        parsed.errors.append(csv_error(None, "", f"The file is not valid CSV ({exc})."))
        return parsed
    if not rows:
        parsed.errors.append(csv_error(None, "", "The file is empty."))
        return parsed
    header, body = [name.strip().lower() for name in rows[0]], rows[1:]
    errors = [csv_error(1, name, "Unknown column.") for name in header if name and name not in COLUMNS]
    errors += [csv_error(1, "", "A column has no name.") for name in header if not name]
    errors += [
        csv_error(1, name, "This column appears more than once.")
        for name in sorted({name for name in header if name and header.count(name) > 1})
    ]
    if "record_type" not in header:
        errors.append(csv_error(1, "record_type", "Required column is missing."))
    if not body and not errors:
        errors.append(csv_error(None, "", "The file has a header row but no records."))
    if len(body) > MAX_ROWS:
        errors.append(csv_error(None, "", f"The file has more than {MAX_ROWS:,} records. Split it."))
    parsed.total_rows = len(body)
    if errors:
        parsed.errors = errors
        return parsed
    for index, row in enumerate(body):
        number = index + 2
        if len(row) > len(header):
            parsed.errors.append(
                csv_error(number, "", "This row has more values than the header has columns.")
            )
            continue
        values = {name: (row[i].strip() if i < len(row) else "") for i, name in enumerate(header)}
        _row(parsed, number, values)
    return parsed


def _row(parsed: Parsed, number: int, values: dict[str, str]) -> None:
    """Turn one row into its record, or report why it cannot be read."""
    errors: list[dict[str, Any]] = []

    def err(column: str, message: str) -> None:
        errors.append(csv_error(number, column, message))

    def text(column: str) -> str:
        return values.get(column, "")

    def typed(column: str, convert: Callable[[str], Any], default: Any, *, required: bool = False) -> Any:
        raw = text(column)
        if not raw:
            if required:
                err(column, "Required.")
            return default
        try:
            return convert(raw)
        except DateOutOfRangeError as exc:
            err(column, str(exc))
        except ValidationError as exc:
            err(column, " ".join(exc.messages))
        except ValueError as exc:
            err(column, str(exc) or "Not valid.")
        return default

    def units(raw: str) -> int:
        if not raw.isdigit():
            raise ValueError("Units are a whole number, such as 1.")
        return int(raw)

    kind = text("record_type").lower()
    if kind not in RECORD_TYPES:
        err("record_type", "Use charge, claim or adjudication." if kind else "Required.")
        parsed.errors += errors
        return
    record: Any
    target: list[Any]
    if kind == "charge":
        record = ChargeRecord(
            ref=number, external_id=text("external_id"), mrn=text("mrn"), appointment_id=text("appointment_id"),
            visit_date=typed("visit_date", _date, None), service_date=typed("service_date", _date, None, required=True),
            service_code=text("service_code"), description=text("description"), units=typed("units", units, 1),
            unit_amount_cents=typed("unit_amount", parse_money, 0, required=True),
        )  # fmt: skip
        target = parsed.records.charges
    elif kind == "claim":
        record = ClaimRecord(
            ref=number, external_id=text("external_id"), mrn=text("mrn"), appointment_id=text("appointment_id"),
            visit_date=typed("visit_date", _date, None), payer=text("payer"), member_id=text("member_id"),
            status=text("status"), submitted_on=typed("submitted_on", _date, None),
        )  # fmt: skip
        target = parsed.records.claims
    else:
        amounts = {
            name: typed(column, parse_money, 0, required=column in ("allowed", "paid_by_insurer"))
            for column, name in MONEY_COLUMNS.items()
            if column != "unit_amount"
        }
        record = AdjudicationRecord(
            ref=number, claim_id=text("claim_id"), charge_id=text("charge_id"),
            adjustment_reason_code=text("adjustment_reason_code"), adjustment_reason=text("adjustment_reason"),
            adjudicated_on=typed("adjudicated_on", _date, None), **amounts,
        )  # fmt: skip
        target = parsed.records.adjudications
    if errors:
        parsed.errors += errors
    else:
        target.append(record)


def csv_records(data: bytes) -> Parsed:
    """The records of the uploaded export DATA, or its problems."""
    text, errors = csv_text(data)
    if errors:
        return Parsed(errors=errors)
    return csv_parse(text)
