"""Patient CSV import: every row is checked before anything is written; then all rows go in at once.

Columns (the header row names them, in any order, case-insensitive):

    mrn*, first_name*, last_name*, preferred_name, date_of_birth* (YYYY-MM-DD or MM/DD/YYYY),
    sex (female/male/other/unknown, or F/M), pronouns, language (en/es, or English/Spanish), phone,
    phone_kind (mobile/landline/unknown; blank: guessed from the number), email, address_line1,
    address_line2, city, region, postal_code, location* (the location's name),
    sms_consent (yes/no/blank: records text-message consent given or refused for the phone)

Columns marked * are required. Rows are numbered as in a spreadsheet: the header is row 1.

Why two phases with different transactions: validation is the long part (every phone number is parsed),
so it runs outside any transaction and writes its progress as it goes, where the status page (another
connection) can see it. The import itself runs in ONE transaction so a failure leaves nothing behind; its
progress updates are made inside that transaction and so stay invisible to other connections until the
commit — the status page shows "Importing" with the validation count until then. That is the trade-off
for all-or-nothing.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from careline.core.actor import UNNAMED_JOB, Actor
from careline.core.audit import AuditAction, audit_patients_record, audit_record
from careline.core.dates import EARLIEST_DATE
from careline.core.events import publish
from careline.core.models import AuditChannel
from careline.core.permissions import Perm, has_perm
from careline.core.phones import parse_phone, phone_kind
from careline.core.queue import task_enqueue
from careline.core.text import has_control_characters
from careline.locations.models import Location
from careline.patients.events import ConsentChanged, PatientCreated
from careline.patients.models import (
    ConsentEvent,
    ConsentKind,
    ConsentMethod,
    Language,
    Patient,
    PatientImport,
    PatientPhone,
    PhoneKind,
    Sex,
)

logger = logging.getLogger(__name__)

COLUMNS = (
    "mrn", "first_name", "last_name", "preferred_name", "date_of_birth", "sex", "pronouns", "language",
    "phone", "phone_kind", "email", "address_line1", "address_line2", "city", "region", "postal_code",
    "location", "sms_consent",
)  # fmt: skip
REQUIRED_COLUMNS = ("mrn", "first_name", "last_name", "date_of_birth", "location")
MAX_LENGTHS = {
    "mrn": 32, "first_name": 100, "last_name": 100, "preferred_name": 100, "pronouns": 40, "email": 254,
    "address_line1": 200, "address_line2": 200, "city": 100, "region": 100, "postal_code": 20,
}  # fmt: skip
SEX_VALUES: dict[str, str] = {"f": Sex.FEMALE, "m": Sex.MALE, **{value: value for value in Sex.values}}
LANGUAGE_VALUES: dict[str, str] = {"english": Language.ENGLISH, "spanish": Language.SPANISH, "español": Language.SPANISH,
                   **{value: value for value in Language.values}}  # fmt: skip
CONSENT_VALUES = {"yes": True, "y": True, "no": False, "n": False, "": None}
BATCH_SIZE = 500
PROGRESS_EVERY = 200
MAX_STORED_ERRORS = 1000

Progress = Callable[[int, int], None]
Error = dict[str, Any]


def _error(row: int | None, column: str, message: str) -> Error:
    return {"row": row, "column": column, "message": message}


@dataclass
class ImportRow:
    """One checked row, ready to become a patient."""

    row: int
    patient: Patient
    phone: str = ""
    phone_kind: str = ""
    sms_consent: bool | None = None


@dataclass
class CheckResult:
    """The outcome of checking a file: rows ready to import, or errors (then nothing may be imported)."""

    rows: list[ImportRow] = field(default_factory=list)
    errors: list[Error] = field(default_factory=list)
    total_rows: int = 0


def _parse_date(text: str) -> date:
    for pattern in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError


def _decode(data: bytes) -> tuple[list[str] | None, list[list[str]], list[Error]]:
    """Header and data rows of DATA, or file-level errors (size, encoding, empty)."""
    if len(data) > settings.CARELINE_MAX_IMPORT_BYTES:
        limit = settings.CARELINE_MAX_IMPORT_BYTES // (1024 * 1024) or 1
        return (
            None,
            [],
            [_error(None, "", f"The file is larger than {limit} MB. Split it into smaller files.")],
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        message = "The file is not UTF-8 text. In your spreadsheet, save it as “CSV UTF-8”."
        return None, [], [_error(None, "", message)]
    try:
        records = [
            record for record in csv.reader(io.StringIO(text, newline="")) if any(v.strip() for v in record)
        ]
    except csv.Error as exc:
        return None, [], [_error(None, "", f"The file is not valid CSV ({exc}).")]
    if not records:
        return None, [], [_error(None, "", "The file is empty.")]
    header, rows = records[0], records[1:]
    if not rows:
        return header, [], [_error(None, "", "The file has a header row but no patients.")]
    return header, rows, []


def _check_header(header: list[str]) -> tuple[list[str], list[Error]]:
    names = [name.strip().lower() for name in header]
    errors = [_error(1, name, "Unknown column.") for name in names if name and name not in COLUMNS]
    errors += [_error(1, "", "A column has no name.") for name in names if not name]
    for name in sorted({name for name in names if name and names.count(name) > 1}):
        errors.append(_error(1, name, "This column appears more than once."))
    errors += [
        _error(1, name, "Required column is missing.") for name in REQUIRED_COLUMNS if name not in names
    ]
    return names, errors


def _check_row(
    number: int, values: dict[str, str], locations: dict[str, Location]
) -> tuple[ImportRow | None, list[Error]]:
    """Check one row; every problem is reported, not only the first."""
    errors: list[Error] = []

    def err(column: str, message: str) -> None:
        errors.append(_error(number, column, message))

    for column in REQUIRED_COLUMNS:
        if not values.get(column):
            err(column, "Required.")
    for column, value in values.items():
        if has_control_characters(value):
            err(
                column, "Contains control characters (such as NUL or a text-direction override); remove them."
            )
    for column, limit in MAX_LENGTHS.items():
        if len(values.get(column, "")) > limit:
            err(column, f"Longer than {limit} characters.")
    birth: date | None = None
    if values.get("date_of_birth"):
        try:
            birth = _parse_date(values["date_of_birth"])
        except ValueError:
            err("date_of_birth", "Use YYYY-MM-DD or MM/DD/YYYY.")
        else:
            if birth > timezone.localdate() or birth < EARLIEST_DATE:
                err("date_of_birth", "Not a plausible date of birth.")
    sex = SEX_VALUES.get(values.get("sex", "").lower() or "unknown")
    if sex is None:
        err("sex", "Use female, male, other or unknown.")
    language = LANGUAGE_VALUES.get(values.get("language", "").lower() or "en")
    if language is None:
        err("language", "Use en or es.")
    phone = ""
    if values.get("phone"):
        try:
            phone = parse_phone(values["phone"])
        except ValidationError as exc:
            err("phone", " ".join(exc.messages))
    kind = values.get("phone_kind", "").lower()
    if kind and kind not in PhoneKind.values:
        err("phone_kind", "Use mobile, landline or unknown.")
    elif kind and not values.get("phone"):
        err("phone_kind", "Given without a phone.")
    if values.get("email"):
        try:
            validate_email(values["email"])
        except ValidationError:
            err("email", "Not an email address.")
    consent_text = values.get("sms_consent", "").lower()
    consent = CONSENT_VALUES.get(consent_text, "bad")
    if consent == "bad":
        err("sms_consent", "Use yes, no or leave blank.")
    elif consent is not None and not values.get("phone"):
        err("sms_consent", "Consent needs a phone number in the same row.")
    location = locations.get(values.get("location", "").casefold())
    if values.get("location") and location is None:
        err("location", f"No location named “{values['location'][:60]}” that you may import into.")
    if errors or location is None or birth is None or sex is None or language is None:
        return None, errors
    patient = Patient(
        mrn=values["mrn"], legal_first_name=values["first_name"], legal_last_name=values["last_name"],
        preferred_name=values.get("preferred_name", ""), date_of_birth=birth, sex=sex, language=language,
        pronouns=values.get("pronouns", ""), email=values.get("email", ""),
        address_line1=values.get("address_line1", ""), address_line2=values.get("address_line2", ""),
        city=values.get("city", ""), region=values.get("region", ""), postal_code=values.get("postal_code", ""),
        primary_location=location,
    )  # fmt: skip
    return ImportRow(number, patient, phone, kind or (phone_kind(phone) if phone else ""), consent), []  # type: ignore[arg-type]


def _existing_mrns(mrns: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(mrns), BATCH_SIZE):
        found |= set(
            Patient.objects.filter(mrn__in=mrns[start : start + BATCH_SIZE]).values_list("mrn", flat=True)
        )
    return found


def import_locations_for(user: Any) -> dict[str, Location]:
    """Locations a file may name, by folded name: all for the command line (no user), else the user's."""
    locations = Location.objects.filter(is_active=True)
    if user is not None and not has_perm(user, Perm.PATIENT_VIEW_ALL_LOCATIONS):
        locations = locations.filter(pk__in=user.location_ids)
    return {location.name.casefold(): location for location in locations}


def import_check(*, data: bytes, user: Any = None, progress: Progress | None = None) -> CheckResult:
    """Check every row of the CSV DATA; errors as {row, column, message}. Writes nothing."""
    header, records, errors = _decode(data)
    if errors or header is None:
        return CheckResult(errors=errors)
    names, errors = _check_header(header)
    result = CheckResult(total_rows=len(records))
    if errors:
        result.errors = errors  # reported up front: row checks against a wrong header would only add noise
        return result
    locations = import_locations_for(user)
    first_row_of_mrn: dict[str, int] = {}
    for index, record in enumerate(records):
        number = index + 2
        if len(record) > len(names):
            result.errors.append(_error(number, "", "This row has more values than the header has columns."))
            continue
        values = {name: (record[i].strip() if i < len(record) else "") for i, name in enumerate(names)}
        row, row_errors = _check_row(number, values, locations)
        result.errors += row_errors
        mrn = values.get("mrn", "")
        if mrn:
            if mrn in first_row_of_mrn:
                result.errors.append(_error(number, "mrn", f"Same MRN as row {first_row_of_mrn[mrn]}."))
            else:
                first_row_of_mrn[mrn] = number
        if row is not None:
            result.rows.append(row)
        if progress is not None and (index + 1) % PROGRESS_EVERY == 0:
            progress(index + 1, len(records))
    taken = _existing_mrns(list(first_row_of_mrn))
    for mrn in sorted(taken, key=first_row_of_mrn.__getitem__):
        result.errors.append(
            _error(first_row_of_mrn[mrn], "mrn", "A patient with this MRN is already registered.")
        )
    result.errors.sort(
        key=lambda e: (e["row"] or 0, COLUMNS.index(e["column"]) if e["column"] in COLUMNS else -1)
    )
    if progress is not None:
        progress(len(records), len(records))
    return result


def _batches(rows: list[ImportRow]) -> Iterator[list[ImportRow]]:
    for start in range(0, len(rows), BATCH_SIZE):
        yield rows[start : start + BATCH_SIZE]


def import_apply(
    *,
    rows: list[ImportRow],
    actor: Actor,
    progress: Progress | None = None,
) -> int:
    """Create the patients of checked ROWS (phones, consent, one IMPORT audit entry each) in one transaction.

    ACTOR is the staff member who uploaded the file, or the system (a command); its channel is the entries'.
    """
    now = timezone.now()
    done = 0
    user = actor.user
    # Each patient's entry names the uploader; an import nobody signed in for is told by "import" alone.
    label = actor.label if user is not None else "import"
    with transaction.atomic():
        for batch in _batches(rows):
            patients = [row.patient for row in batch]
            for patient in patients:
                patient.refresh_search_keys()  # bulk_create skips save(), which computes the search keys
            Patient.objects.bulk_create(patients)
            PatientPhone.objects.bulk_create(
                PatientPhone(
                    patient=row.patient, number=row.phone, kind=row.phone_kind, is_primary=True, label=""
                )
                for row in batch
                if row.phone
            )
            consents = ConsentEvent.objects.bulk_create(
                ConsentEvent(
                    phone_number=row.phone,
                    kind=ConsentKind.GIVEN if row.sms_consent else ConsentKind.REVOKED,
                    method=ConsentMethod.IMPORT,
                    patient=row.patient,
                    recorded_by=user,
                    occurred_at=now,
                    note="CSV import",
                )
                for row in batch
                if row.phone and row.sms_consent is not None
            )
            audit_patients_record(
                actor=actor,
                action=AuditAction.IMPORT,
                patient_ids=[row.patient.pk for row in batch],
                detail="created by CSV import",
                actor_label=label,
            )
            for row in batch:
                publish(
                    PatientCreated(
                        patient_id=row.patient.pk,
                        primary_location_id=row.patient.primary_location_id,
                        source="import",
                    )
                )
            for consent in consents:
                publish(
                    ConsentChanged(
                        consent_event_id=consent.pk,
                        patient_id=consent.patient_id,
                        kind=consent.kind,
                        method=consent.method,
                    )
                )
            done += len(batch)
            if progress is not None:
                progress(done, len(rows))
    return done


# --- the web path: an upload row, a task, a status page -----------------------------------------------


def patient_import_start(*, upload: UploadedFile, actor: Actor) -> PatientImport:
    """Keep the file ACTOR (a staff member) uploaded as a PatientImport row; queue its processing after commit."""
    name = (upload.name or "patients.csv")[:200]
    with transaction.atomic():
        patient_import = PatientImport.objects.create(
            file=upload, original_name=name, created_by=actor.staff_user
        )
        transaction.on_commit(lambda: task_enqueue("patients.patient_import_run", patient_import.pk))
    return patient_import


def patient_import_process(*, import_id: int) -> PatientImport | None:
    """Check, then import, upload IMPORT_ID. Claims the row first, so a repeated task does nothing."""
    claimed = PatientImport.objects.filter(pk=import_id, state=PatientImport.State.PENDING).update(
        state=PatientImport.State.VALIDATING
    )
    if not claimed:
        return None
    patient_import = PatientImport.objects.select_related("created_by").get(pk=import_id)
    actor = _uploader(patient_import)
    rows = PatientImport.objects.filter(pk=import_id)

    def finish(state: str, **fields: Any) -> PatientImport:
        rows.update(state=state, finished_at=timezone.now(), **fields)
        # The upload holds patient data: once processed it is removed (the row keeps its name for the list).
        if patient_import.file.name:
            patient_import.file.storage.delete(patient_import.file.name)
        patient_import.refresh_from_db()
        return patient_import

    try:
        with patient_import.file.open("rb") as handle:
            data = handle.read(settings.CARELINE_MAX_IMPORT_BYTES + 1)
        result = import_check(
            data=data,
            user=patient_import.created_by,
            progress=lambda done, total: _set_progress(rows, processed_rows=done, total_rows=total),
        )
        rows.update(total_rows=result.total_rows)
        if result.errors:
            return finish(PatientImport.State.INVALID, errors=_stored_errors(result.errors))
        rows.update(state=PatientImport.State.IMPORTING, processed_rows=0)
        created = import_apply(
            rows=result.rows,
            actor=actor,
            progress=lambda done, total: _set_progress(rows, processed_rows=done),
        )
    except IntegrityError:
        # Someone registered one of the MRNs between the check and the import: nothing was written.
        message = "A patient with one of these MRNs was registered while the import ran. Nothing was imported; upload the file again."
        return finish(PatientImport.State.FAILED, errors=[_error(None, "mrn", message)])
    except Exception:  # any failure must leave a finished row for the status page
        logger.exception("patient import %s failed", import_id)
        return finish(
            PatientImport.State.FAILED,
            errors=[_error(None, "", "The import failed unexpectedly. Nothing was imported.")],
        )
    audit_record(
        action=AuditAction.IMPORT, actor=actor, obj=patient_import,
        detail=f"CSV import #{import_id}: {created} patients created",
    )  # fmt: skip
    return finish(PatientImport.State.DONE, created_count=created, processed_rows=created)


def _uploader(patient_import: PatientImport) -> Actor:
    """Who the background import acts as: the staff member who uploaded it, on the web channel.

    An uploader removed since (the row keeps no one) leaves an entry nobody in particular made.
    """
    user = patient_import.created_by
    actor = Actor.staff(user) if user is not None else Actor.system(UNNAMED_JOB)
    return actor.with_channel(AuditChannel.WEB)


def _set_progress(rows: Any, **counts: int) -> None:
    rows.update(**counts)


def _stored_errors(errors: list[Error]) -> list[Error]:
    """The errors to keep on the row: the first MAX_STORED_ERRORS, then a line saying how many more."""
    if len(errors) <= MAX_STORED_ERRORS:
        return errors
    more = len(errors) - MAX_STORED_ERRORS
    return [*errors[:MAX_STORED_ERRORS], _error(None, "", f"… and {more} more errors.")]
