"""/api/v1/appointments and /api/v1/slots: book, list, move, cancel and change visits as the token's staff user.

Parse (schemas here) -> authorize (Perm, appointments_visible_to, locations_visible_to, patient_for_user) ->
scheduling services / queries -> JSON. Times go in as ISO 8601 with a UTC offset and come out in UTC, with
the same moment also given in the location's zone (`local_starts_at`) since that is the clock on the wall.

Status codes: 401 without a valid token; 403 when the token's user may not see or change the patient, the
location or the appointment (or lacks SCHEDULE_VIEW for reads, SCHEDULE_BOOK for writes); 404 for an
appointment id that does not exist; 422 for bad input and for bookings the schedule refuses (double
booking, outside working hours, time off, in the past), with one entry per field.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema, Status
from pydantic import AfterValidator, ConfigDict

from careline.accounts.models import User
from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_patient_access, audit_record
from careline.core.dates import any_date_bounds, bounded_datetime, schedule_bounds
from careline.core.permissions import Perm, check_perm
from careline.core.text import CONTROL_CHARACTERS_MESSAGE, has_control_characters
from careline.locations.models import Location
from careline.patients.models import Patient
from careline.patients.queries import patient_for_user
from careline.scheduling.models import Appointment, AppointmentStatus, AppointmentType, ChangeSource
from careline.scheduling.queries.appointments import (
    MAX_SLOT_RANGE_DAYS,
    Slot,
    appointment_for_user,
    appointments_visible_to,
    free_slots,
    locations_visible_to,
)
from careline.scheduling.services import appointments as services

router = Router(tags=["appointments"])
slots_router = Router(tags=["appointments"])

MAX_ID = 2**63 - 1
MAX_LIMIT = 100
DEFAULT_LIMIT = 25
MAX_OFFSET = 10_000
MAX_SLOTS = 100
RowId = Annotated[int, Field(ge=1, le=MAX_ID)]
OFFSET_EXAMPLE = "2031-01-06T09:00:00-06:00"

# The statuses PATCH may set; cancelling has its own route and moving is a new start time.
PATCHABLE_STATUSES = {
    AppointmentStatus.CONFIRMED: "confirm",
    AppointmentStatus.CHECKED_IN: "check in",
    AppointmentStatus.COMPLETED: "complete",
    AppointmentStatus.NO_SHOW: "no-show",
}


def _aware(value: datetime) -> datetime:
    """A datetime with a UTC offset (its date within 1900..2200, checked before any zone arithmetic)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"Include a time zone offset, for example {OFFSET_EXAMPLE}.")
    return value


def _text(value: str) -> str:
    if has_control_characters(value, allowed="\t"):
        raise ValueError(CONTROL_CHARACTERS_MESSAGE)
    return value.strip()


def _patchable_status(value: str) -> str:
    if value not in PATCHABLE_STATUSES:
        raise ValueError("Use confirmed, checked_in, completed or no_show (cancel with POST .../cancel).")
    return value


def _check_range(start: datetime | None, end: datetime | None, longest: timedelta | None = None) -> None:
    if start is not None and end is not None:
        if end <= start:
            raise ValidationError({"to": ["Must be after from."]})
        if longest is not None and end - start > longest:
            raise ValidationError({"to": [f"Search at most {longest.days} days at a time."]})


# Filters over the record may reach far back; what is booked or searched for stays near today.
Aware = Annotated[datetime, AfterValidator(bounded_datetime(any_date_bounds)), AfterValidator(_aware)]
ScheduleAware = Annotated[datetime, AfterValidator(bounded_datetime(schedule_bounds)), AfterValidator(_aware)]
Text = Annotated[str, AfterValidator(_text)]


# --- schemas -----------------------------------------------------------------------------------------


class AppointmentOut(Schema):
    id: int
    patient_id: int
    clinician_id: int
    clinician_name: str
    location_id: int
    location_name: str
    time_zone: str = Field(description="The location's zone; local_starts_at is in it")
    appointment_type_id: int
    appointment_type_name: str
    starts_at: datetime = Field(description="UTC")
    ends_at: datetime = Field(description="UTC")
    local_starts_at: datetime = Field(description="The start on the location's clock, with its offset")
    status: AppointmentStatus
    series_id: int | None
    rescheduled_from_id: int | None
    external_id: str | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_clinician_name(obj: Appointment) -> str:
        return str(obj.clinician)

    @staticmethod
    def resolve_location_name(obj: Appointment) -> str:
        return obj.location.name

    @staticmethod
    def resolve_time_zone(obj: Appointment) -> str:
        return obj.location.time_zone

    @staticmethod
    def resolve_appointment_type_name(obj: Appointment) -> str:
        return obj.appointment_type.name

    @staticmethod
    def resolve_local_starts_at(obj: Appointment) -> datetime:
        return obj.starts_at.astimezone(obj.location.zone)


class AppointmentPage(Schema):
    items: list[AppointmentOut]
    limit: int
    offset: int
    has_more: bool
    next_offset: int | None


class AppointmentListFilters(Schema):
    patient_id: RowId | None = None
    location_id: RowId | None = None
    clinician_id: RowId | None = None
    status: AppointmentStatus | None = None
    from_: Aware | None = Field(
        None, alias="from", description=f"Visits starting at or after this moment, e.g. {OFFSET_EXAMPLE}"
    )
    to: Aware | None = Field(None, description="Visits starting before this moment (ISO 8601 with offset)")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class AppointmentCreateIn(Schema):
    """Book one visit. `starts_at` is ISO 8601 with a UTC offset; a naive time is refused, never guessed."""

    model_config = ConfigDict(extra="forbid")

    patient_id: RowId
    clinician_id: RowId
    location_id: RowId
    appointment_type_id: RowId
    starts_at: ScheduleAware = Field(
        ...,
        description=f"ISO 8601 with a UTC offset, e.g. {OFFSET_EXAMPLE} (09:00 in Chicago in winter)",
    )
    allow_outside_hours: bool = Field(False, description="Book outside the clinician's working hours")
    reminders_by_email: bool = Field(
        False,
        description="Record email as the patient's way of getting appointment reminders before booking: this "
        "visit's reminders, and those already planned for the patient's upcoming visits, go by email (422 on "
        "patient_id when the patient has no email address or asked for confidential communications)",
    )


class AppointmentUpdateIn(Schema):
    """Either move the visit (`starts_at`, optionally `clinician_id`/`location_id`) or set `status`, not both.

    A move marks this visit `rescheduled` and answers with the NEW visit (its `rescheduled_from_id` is this
    one's id). `status` may be confirmed, checked_in, completed or no_show; cancel with POST .../cancel.
    """

    model_config = ConfigDict(extra="forbid")

    starts_at: ScheduleAware | None = Field(
        None, description=f"ISO 8601 with a UTC offset, e.g. {OFFSET_EXAMPLE}"
    )
    clinician_id: RowId | None = None
    location_id: RowId | None = None
    allow_outside_hours: bool = False
    status: Annotated[str, Field(max_length=40), AfterValidator(_patchable_status)] | None = Field(
        None, description="confirmed, checked_in, completed or no_show"
    )

    def problem(self) -> ValidationError | None:
        """Why this body is not exactly one change (a move or a status), or None."""
        moving = self.starts_at is not None
        extras = self.clinician_id or self.location_id or self.allow_outside_hours
        if self.status is not None and (moving or extras):
            return ValidationError(
                {"status": ["Send either a new starts_at (a move) or a status, not both."]}
            )
        if not moving and extras:
            return ValidationError(
                {"starts_at": ["A move needs starts_at (send the current start to keep it)."]}
            )
        if not moving and self.status is None:
            return ValidationError("Nothing to change: send starts_at (a move) or status.")
        return None


class AppointmentCancelIn(Schema):
    model_config = ConfigDict(extra="forbid")

    by_patient: bool = Field(False, description="The patient cancelled (otherwise the clinic did)")
    reason: Text = Field("", max_length=200)


class SlotOut(Schema):
    starts_at: datetime = Field(description="UTC")
    ends_at: datetime = Field(description="UTC")
    local_starts_at: datetime = Field(description="The start on the location's clock, with its offset")
    time_zone: str
    clinician_id: int
    clinician_name: str
    location_id: int
    location_name: str
    appointment_type_id: int

    @staticmethod
    def resolve_local_starts_at(obj: Slot) -> datetime:
        return obj.local_start

    @staticmethod
    def resolve_time_zone(obj: Slot) -> str:
        return obj.location.time_zone

    @staticmethod
    def resolve_clinician_id(obj: Slot) -> int:
        return int(obj.clinician.pk)

    @staticmethod
    def resolve_clinician_name(obj: Slot) -> str:
        return str(obj.clinician)

    @staticmethod
    def resolve_location_id(obj: Slot) -> int:
        return obj.location.pk

    @staticmethod
    def resolve_location_name(obj: Slot) -> str:
        return obj.location.name

    @staticmethod
    def resolve_appointment_type_id(obj: Slot) -> int:
        return obj.appointment_type.pk


class SlotFilters(Schema):
    appointment_type_id: RowId
    from_: ScheduleAware = Field(
        ..., alias="from", description=f"ISO 8601 with a UTC offset, e.g. {OFFSET_EXAMPLE}"
    )
    to: ScheduleAware = Field(
        ..., description=f"ISO 8601 with a UTC offset; at most {MAX_SLOT_RANGE_DAYS} days on"
    )
    clinician_id: RowId | None = None
    location_id: RowId | None = None
    limit: int = Field(20, ge=1, le=MAX_SLOTS)


# --- lookups: 422 for an id that names nothing, 403 for one the user may not use --------------------


def _staff(request: HttpRequest) -> User:
    # ApiTokenAuth put the token's staff user on the request.
    user: User = request.user  # type: ignore[assignment]
    return user


def _refuse_unknown_parameters(request: HttpRequest, schema: type[Schema]) -> None:
    # ninja ignores query parameters it does not know; a misspelt "clinican_id" must not widen the list.
    known = {field.alias or name for name, field in schema.model_fields.items()}
    unknown = sorted(set(request.GET) - known)
    if unknown:
        names = ", ".join(sorted(known))
        raise ValidationError({name[:40]: [f"Unknown parameter; use {names}."] for name in unknown[:10]})


def _visible_location(user: User, location_id: int, field: str = "location_id") -> Location:
    location = Location.objects.filter(pk=location_id).first()
    if location is None:
        raise ValidationError({field: ["There is no such location."]})
    if not locations_visible_to(user).filter(pk=location.pk).exists():
        raise PermissionDenied
    return location


def _clinician(clinician_id: int, field: str = "clinician_id") -> User:
    clinician = User.objects.filter(pk=clinician_id, is_active=True).first()
    if clinician is None:
        raise ValidationError({field: ["There is no such active staff member."]})
    return clinician


def _appointment_type(type_id: int) -> AppointmentType:
    kind = AppointmentType.objects.filter(pk=type_id).first()
    if kind is None:
        raise ValidationError({"appointment_type_id": ["There is no such appointment type."]})
    return kind


def _patient(user: User, patient_id: int, perm: str) -> Patient:
    if not Patient.objects.filter(pk=patient_id).exists():
        raise ValidationError({"patient_id": ["There is no such patient."]})
    return patient_for_user(user, patient_id, perm)


def _with_ids(error: ValidationError) -> ValidationError:
    """A service's error named by the API's field names (clinician -> clinician_id)."""
    if not hasattr(error, "error_dict"):
        return error
    renamed = {"patient": "patient_id", "clinician": "clinician_id", "location": "location_id",
               "appointment_type": "appointment_type_id"}  # fmt: skip
    return ValidationError({renamed.get(name, name): errors for name, errors in error.error_dict.items()})


def _fresh(appointment: Appointment) -> Appointment:
    return Appointment.objects.select_related("clinician", "location", "appointment_type").get(
        pk=appointment.pk
    )


# --- routes ------------------------------------------------------------------------------------------


@router.get("", response=AppointmentPage, summary="List appointments")
def appointment_list_api(request: HttpRequest, filters: Query[AppointmentListFilters]) -> dict[str, Any]:
    """Appointments at the token user's locations, earliest first, filtered and `limit` at a time.

    `from` and `to` are ISO 8601 moments with a UTC offset (visits starting in [from, to)).
    """
    user = _staff(request)
    check_perm(user, Perm.SCHEDULE_VIEW)
    _refuse_unknown_parameters(request, AppointmentListFilters)
    _check_range(filters.from_, filters.to)
    found: QuerySet[Appointment] = appointments_visible_to(user)
    described: list[str] = []
    if filters.patient_id is not None:
        patient = _patient(user, filters.patient_id, Perm.SCHEDULE_VIEW)
        found = found.filter(patient=patient)
        described.append(f"patient {patient.pk}")
    if filters.location_id is not None:
        found = found.filter(location=_visible_location(user, filters.location_id))
        described.append(f"location {filters.location_id}")
    if filters.clinician_id is not None:
        found = found.filter(clinician_id=filters.clinician_id)
        described.append(f"clinician {filters.clinician_id}")
    if filters.status is not None:
        found = found.filter(status=filters.status)
        described.append(f"status {filters.status}")
    if filters.from_ is not None:
        found = found.filter(starts_at__gte=filters.from_)
        described.append(f"from {filters.from_.isoformat()}")
    if filters.to is not None:
        found = found.filter(starts_at__lt=filters.to)
        described.append(f"to {filters.to.isoformat()}")
    # One more than the page tells whether another page follows.
    rows = list(found.order_by("starts_at", "id")[filters.offset : filters.offset + filters.limit + 1])
    has_more = len(rows) > filters.limit
    page = rows[: filters.limit]
    audit_record(
        request=request,
        action=AuditAction.SEARCH,
        object_type="scheduling.appointment",
        patient_id=filters.patient_id,
        detail=f"api list; {'; '.join(described) or 'no filters'}; offset {filters.offset}; "
        f"returned ids: {','.join(str(a.pk) for a in page)}",
    )
    return {
        "items": page,
        "limit": filters.limit,
        "offset": filters.offset,
        "has_more": has_more,
        "next_offset": filters.offset + filters.limit if has_more else None,
    }


@router.post("", response={201: AppointmentOut}, summary="Book an appointment")
def appointment_create_api(request: HttpRequest, payload: AppointmentCreateIn) -> Status[Appointment]:
    """Book a visit for a patient the token's user may see, at one of their locations.

    `starts_at` is ISO 8601 with a UTC offset. Refused with 422 (on `starts_at`) when the clinician is
    already booked then, is not working or is away, or the time has passed.
    """
    user = _staff(request)
    check_perm(user, Perm.SCHEDULE_BOOK)
    patient = _patient(user, payload.patient_id, Perm.SCHEDULE_BOOK)
    location = _visible_location(user, payload.location_id)
    clinician = _clinician(payload.clinician_id)
    kind = _appointment_type(payload.appointment_type_id)
    try:
        appointment = services.appointment_book(
            patient=patient, clinician=clinician, location=location, appointment_type=kind,
            starts_at=payload.starts_at, actor=Actor.from_request(request), source=ChangeSource.API,
            allow_outside_hours=payload.allow_outside_hours, reminders_by_email=payload.reminders_by_email,
        )  # fmt: skip
    except ValidationError as exc:
        raise _with_ids(exc) from None
    return Status(201, _fresh(appointment))


@router.get("/{appointment_id}", response=AppointmentOut, summary="Read an appointment")
def appointment_detail_api(request: HttpRequest, appointment_id: Path[RowId]) -> Appointment:
    """One appointment (404 when there is none, 403 when the token's user may not see it)."""
    appointment = appointment_for_user(_staff(request), appointment_id, Perm.SCHEDULE_VIEW)
    audit_patient_access(
        request=request, action=AuditAction.VIEW, patient_id=appointment.patient_id, obj=appointment,
        detail="api appointment",
    )  # fmt: skip
    return appointment


@router.patch(
    "/{appointment_id}", response=AppointmentOut, summary="Move an appointment or change its status"
)
def appointment_update_api(
    request: HttpRequest, appointment_id: Path[RowId], payload: AppointmentUpdateIn
) -> Appointment:
    """Move (new `starts_at`, optionally clinician and location: answers with the new visit) or set `status`."""
    user = _staff(request)
    appointment = appointment_for_user(user, appointment_id, Perm.SCHEDULE_BOOK)
    problem = payload.problem()
    if problem is not None:
        raise problem
    try:
        if payload.status is not None:
            changed = services.appointment_set_status(
                appointment=appointment, status=payload.status, actor=Actor.from_request(request), source=ChangeSource.API,
                detail="api",
            )  # fmt: skip
        else:
            assert payload.starts_at is not None  # the schema requires one of the two
            location = (
                _visible_location(user, payload.location_id) if payload.location_id is not None else None
            )
            clinician = _clinician(payload.clinician_id) if payload.clinician_id is not None else None
            changed = services.appointment_move(
                appointment=appointment, starts_at=payload.starts_at, clinician=clinician, location=location,
                actor=Actor.from_request(request), source=ChangeSource.API, allow_outside_hours=payload.allow_outside_hours,
            )  # fmt: skip
    except ValidationError as exc:
        raise _with_ids(exc) from None
    return _fresh(changed)


@router.post("/{appointment_id}/cancel", response=AppointmentOut, summary="Cancel an appointment")
def appointment_cancel_api(
    request: HttpRequest, appointment_id: Path[RowId], payload: AppointmentCancelIn
) -> Appointment:
    """Cancel a booked or confirmed visit, by the patient (`by_patient`) or the clinic; the slot is freed."""
    user = _staff(request)
    appointment = appointment_for_user(user, appointment_id, Perm.SCHEDULE_BOOK)
    try:
        cancelled = services.appointment_cancel(
            appointment=appointment, actor=Actor.from_request(request), source=ChangeSource.API, by_patient=payload.by_patient,
            reason=payload.reason,
        )  # fmt: skip
    except ValidationError as exc:
        raise _with_ids(exc) from None
    return _fresh(cancelled)


@slots_router.get("", response=list[SlotOut], summary="Find free slots")
def slot_list_api(request: HttpRequest, filters: Query[SlotFilters]) -> list[Slot]:
    """Free slots of a type between `from` and `to` (ISO 8601 with offset) at the token user's locations."""
    user = _staff(request)
    check_perm(user, Perm.SCHEDULE_VIEW)
    _refuse_unknown_parameters(request, SlotFilters)
    _check_range(filters.from_, filters.to, timedelta(days=MAX_SLOT_RANGE_DAYS))
    kind = _appointment_type(filters.appointment_type_id)
    location = _visible_location(user, filters.location_id) if filters.location_id is not None else None
    clinician = _clinician(filters.clinician_id) if filters.clinician_id is not None else None
    if location is not None:
        where = [location]
    else:
        # free_slots counts its limit over every location offering the type; asking per visible location
        # keeps another clinic's slots from using up the page.
        where = list(locations_visible_to(user).filter(pk__in=kind.locations.values("pk")))
    found: list[Slot] = []
    for each in where:
        found += free_slots(
            appointment_type=kind, start=filters.from_, end=filters.to, clinician=clinician, location=each,
            limit=filters.limit,
        )  # fmt: skip
    found.sort(key=lambda slot: (slot.starts_at, str(slot.clinician), slot.location.name))
    slots = found[: filters.limit]
    audit_record(
        request=request,
        action=AuditAction.SEARCH,
        object_type="scheduling.slot",
        detail=f"api slots; type {kind.pk}; clinician {filters.clinician_id or 'any'}; "
        f"location {filters.location_id or 'any'}; {len(slots)} returned",
    )
    return slots
