"""Appointment CSV import from a practice-management export: check every row, then import all or nothing.

Columns (header row, any order, case-insensitive; all required):

    external_id, mrn, clinician_email, location (name), appointment_type (name), date (YYYY-MM-DD or
    MM/DD/YYYY), time (HH:MM, local to the location), status (booked, confirmed, cancelled_patient,
    cancelled_clinic — or just "cancelled" for the clinic —, checked_in, completed, no_show)

Rows are numbered as in a spreadsheet (the header is row 1). An external_id already in Careline is not
imported again: if only its status differs, the status is updated (with a history row from the import, and
its reminders withdrawn or re-planned); any other difference is ignored. A visit since moved in Careline
(rescheduled) is left alone: its new row carries on. A status that would make a cancelled visit active
again on time the clinician has since given away is an error for that row. So re-importing the same or a
newer export is harmless.

Phase one checks every row's values. Phase two books the rows in ONE transaction through
`appointment_book` (so a future active visit still may not double-book a clinician, including against
another row of the same file); if any row fails there, the transaction is rolled back and the errors are
reported by row: nothing is half-imported. Working hours are not enforced: the practice system already
decided those times. Imports send no texts; reminders are planned for future active visits.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from careline.accounts.models import User
from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.core.dates import DateOutOfRangeError, check_date
from careline.core.events import publish
from careline.core.models import AuditChannel
from careline.core.text import has_control_characters
from careline.locations.models import Location
from careline.patients.models import Patient
from careline.scheduling.events import AppointmentStatusChanged
from careline.scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    AppointmentType,
    ChangeSource,
)
from careline.scheduling.queries.appointments import local_to_utc
from careline.scheduling.services import reminders, visit_texts
from careline.scheduling.services.appointments import _lock_clinicians, _record_change, appointment_book

COLUMNS = ("external_id", "mrn", "clinician_email", "location", "appointment_type", "date", "time", "status")
STATUS_VALUES: dict[str, str] = {
    **{value: value for value in AppointmentStatus.values if value != AppointmentStatus.RESCHEDULED},
    "cancelled": AppointmentStatus.CANCELLED_CLINIC,
    "canceled": AppointmentStatus.CANCELLED_CLINIC,
    "no-show": AppointmentStatus.NO_SHOW,
}
Error = dict[str, Any]


@dataclass
class AppointmentRow:
    row: int
    external_id: str
    patient: Patient
    clinician: User
    location: Location
    appointment_type: AppointmentType
    starts_at: datetime
    status: str


@dataclass
class ImportResult:
    """Rows checked, created, updated and skipped, or errors (then nothing was imported)."""

    errors: list[Error] = field(default_factory=list)
    rows: list[AppointmentRow] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _error(row: int | None, column: str, message: str) -> Error:
    return {"row": row, "column": column, "message": message}


def _parse_date(text: str) -> date:
    for pattern in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError


def _records(data: bytes) -> tuple[list[dict[str, str]], list[Error]]:
    if len(data) > settings.CARELINE_MAX_IMPORT_BYTES:
        return [], [_error(None, "", "The file is too large. Split it into smaller files.")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [_error(None, "", "The file is not UTF-8 text. Save it as “CSV UTF-8”.")]
    try:
        records = [r for r in csv.reader(io.StringIO(text, newline="")) if any(v.strip() for v in r)]
    except csv.Error as exc:
        return [], [_error(None, "", f"The file is not valid CSV ({exc}).")]
    if not records:
        return [], [_error(None, "", "The file is empty.")]
    header = [name.strip().lower() for name in records[0]]
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        return [], [_error(1, name, "This column is missing from the header.") for name in missing]
    if len(records) == 1:
        return [], [_error(None, "", "The file has a header row but no appointments.")]
    rows = [{name: (values[i].strip() if i < len(values) else "") for i, name in enumerate(header)}
            for values in records[1:]]  # fmt: skip
    return rows, []


def appointment_import_check(*, data: bytes) -> ImportResult:
    """Every row's values checked against the database; errors by row and column."""
    records, errors = _records(data)
    result = ImportResult(errors=errors)
    if errors:
        return result
    patients = {p.mrn: p for p in Patient.objects.filter(mrn__in={r["mrn"] for r in records})}
    clinicians = {u.email.lower(): u for u in User.objects.filter(is_active=True)}
    locations = {loc.name.lower(): loc for loc in Location.objects.all()}
    types = {t.name.lower(): t for t in AppointmentType.objects.all()}
    seen: set[str] = set()
    for number, record in enumerate(records, start=2):
        row_errors: list[Error] = []

        def err(
            column: str, message: str, number: int = number, row_errors: list[Error] = row_errors
        ) -> None:
            row_errors.append(_error(number, column, message))

        for column in COLUMNS:
            if not record[column]:
                err(column, "This value is required.")
        for column, value in record.items():
            if has_control_characters(value):
                err(
                    column,
                    "Contains control characters (such as NUL or a text-direction override); remove them.",
                )
        external_id = record["external_id"]
        if len(external_id) > 64:
            err("external_id", "At most 64 characters.")
        elif external_id in seen:
            err("external_id", "This external_id appears twice in the file.")
        seen.add(external_id)
        patient = patients.get(record["mrn"])
        if record["mrn"] and patient is None:
            err("mrn", "No patient has this MRN.")
        clinician = clinicians.get(record["clinician_email"].lower())
        if record["clinician_email"] and clinician is None:
            err("clinician_email", "No active staff member has this email.")
        location = locations.get(record["location"].lower())
        if record["location"] and location is None:
            err("location", "There is no location with this name.")
        kind = types.get(record["appointment_type"].lower())
        if record["appointment_type"] and kind is None:
            err("appointment_type", "There is no appointment type with this name.")
        status = STATUS_VALUES.get(record["status"].lower())
        if record["status"] and status is None:
            err("status", "Use booked, confirmed, cancelled, checked_in, completed or no_show.")
        day: date | None = None
        clock: time | None = None
        try:
            day = check_date(_parse_date(record["date"])) if record["date"] else None
        except DateOutOfRangeError as exc:
            err("date", str(exc))
        except ValueError:
            err("date", "Write the date as YYYY-MM-DD or MM/DD/YYYY.")
        try:
            clock = time.fromisoformat(record["time"]) if record["time"] else None
        except ValueError:
            err("time", "Write the time as HH:MM (24-hour).")
        starts_at = None
        if location is not None and day is not None and clock is not None:
            try:
                starts_at = local_to_utc(location.zone, day, clock)
            except ValueError as exc:
                err("time", str(exc))
        result.errors.extend(row_errors)
        if not row_errors:
            assert patient and clinician and location and kind and starts_at and status
            result.rows.append(
                AppointmentRow(number, external_id, patient, clinician, location, kind, starts_at, status)
            )
    return result


class _RollBack(Exception):
    pass


def _status_change_problem(appointment: Appointment, status: str) -> str | None:
    """Why an imported visit may not take STATUS now: re-activating it onto a clinician's booked time."""
    if status not in ACTIVE_STATUSES or appointment.status in ACTIVE_STATUSES:
        return None
    _lock_clinicians(appointment.clinician)
    taken = (
        Appointment.objects.filter(
            clinician_id=appointment.clinician_id, status__in=ACTIVE_STATUSES,
            starts_at__lt=appointment.ends_at, ends_at__gt=appointment.starts_at,
        ).exclude(pk=appointment.pk).exists()
    )  # fmt: skip
    return "The clinician has another visit at this time; it cannot be active again." if taken else None


def appointment_import_apply(*, rows: list[AppointmentRow], actor: Actor) -> ImportResult:
    """Import checked ROWS in one transaction; on any row's error nothing stays and the errors are returned."""
    result = ImportResult(rows=rows)
    existing = {
        a.external_id: a for a in Appointment.objects.filter(external_id__in=[r.external_id for r in rows])
    }
    try:
        with transaction.atomic():
            for row in rows:
                current = existing.get(row.external_id)
                if current is not None:
                    if current.status in (row.status, AppointmentStatus.RESCHEDULED):
                        result.unchanged += 1
                        continue
                    problem = _status_change_problem(current, row.status)
                    if problem:
                        result.errors.append(_error(row.row, "status", problem))
                        continue
                    from_status = current.status
                    current.status = row.status
                    current.save(update_fields=["status", "updated_at"])
                    _record_change(current, from_status=from_status, actor=actor, source=ChangeSource.IMPORT,
                                   detail="status from import")  # fmt: skip
                    publish(
                        AppointmentStatusChanged(
                            appointment_id=current.pk, patient_id=current.patient_id, from_status=from_status,
                            to_status=current.status, source=ChangeSource.IMPORT,
                        )
                    )  # fmt: skip
                    # Cancelled in the practice system: its pending reminders go; re-activated: planned again.
                    # (Direct, not a status-change receiver: a staff status change does not re-plan.)
                    reminders.reminders_plan_for_appointment(current)
                    if current.status not in ACTIVE_STATUSES:
                        visit_texts.appointment_texts_withdraw(
                            current, reason=visit_texts.WITHDRAWN_CANCELLED
                        )
                    result.updated += 1
                    continue
                try:
                    appointment_book(
                        patient=row.patient, clinician=row.clinician, location=row.location,
                        appointment_type=row.appointment_type, starts_at=row.starts_at, actor=actor,
                        source=ChangeSource.IMPORT, allow_outside_hours=True, notify=False, status=row.status,
                        external_id=row.external_id,
                    )  # fmt: skip
                    result.created += 1
                except ValidationError as exc:
                    for name, messages in (
                        exc.message_dict.items() if hasattr(exc, "error_dict") else [("", exc.messages)]
                    ):
                        column = {"starts_at": "time", "__all__": ""}.get(name, name)
                        result.errors.extend(_error(row.row, column, message) for message in messages)
            if result.errors:
                raise _RollBack
    except _RollBack:
        result.created = result.updated = result.unchanged = 0
        return result
    audit_record(
        action=AuditAction.IMPORT, actor=actor, object_type="scheduling.appointment",
        channel=actor.channel if actor.channel != AuditChannel.SYSTEM else AuditChannel.COMMAND,
        detail=f"appointment CSV import: {result.created} created, {result.updated} updated, "
        f"{result.unchanged} unchanged",
    )  # fmt: skip
    return result


def appointment_import(*, data: bytes, actor: Actor) -> ImportResult:
    """Check DATA and, when every row is fine, import it (all or nothing)."""
    checked = appointment_import_check(data=data)
    if checked.errors:
        return checked
    return appointment_import_apply(rows=checked.rows, actor=actor)
