"""Appointment writes: book, move, cancel, status changes and weekly series.

Double booking: every write that gives a clinician's time to a visit first locks the clinician's user row
(SELECT ... FOR UPDATE), then looks for an overlapping appointment in ACTIVE_STATUSES. Two requests racing
for the same clinician queue on that lock, so the second sees the first's visit and is refused. (SQLite
takes a database-wide write lock instead, with the same effect.)

Every change writes an AppointmentStatusChange row, audits on the patient and publishes an event
(`careline/scheduling/events.py`). This module does not know who listens: reminder planning and the
withdrawal of texts about the old time subscribe inside the transaction; the booking confirmation,
clinic-side notices and waitlist offers subscribe after commit, so a rolled-back booking never texts anybody
(subscriptions: `SchedulingConfig.ready`).

Who is texted: `notify=None` means "by the rule": changes made by staff, the API, the portal or the system
notify the patient; changes made by the patient's own text reply (the replies code answers them itself)
and imports (historical rows) do not. Pass notify=True/False to override.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from careline.accounts.models import User
from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.core.events import publish
from careline.core.models import AuditChannel
from careline.locations.models import Location
from careline.patients.models import Channel as ContactChannel
from careline.patients.models import Patient, Purpose
from careline.patients.services.registry import contact_preference_set
from careline.scheduling.events import (
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentMoved,
    AppointmentStatusChanged,
)
from careline.scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentSeries,
    AppointmentStatus,
    AppointmentStatusChange,
    AppointmentType,
    ChangeSource,
)
from careline.scheduling.queries.appointments import availability_problem, local_to_utc, staff_day
from careline.scheduling.visit_actions import (
    ACTION_STATUS,
    FROM_STATUSES,
    STATUS_ACTION,
    VisitAction,
    visit_action_problem,
)

MAX_SERIES_COUNT = 52
# A visit of a variable-length type lasts 5 minutes to 8 hours, in whole 5 minutes (as a type's duration).
VISIT_MINUTES_RANGE = (5, 480)
NOTIFYING_SOURCES = frozenset(
    {ChangeSource.STAFF, ChangeSource.API, ChangeSource.PORTAL, ChangeSource.SYSTEM}
)
# Sources that record what already happened elsewhere, so a start in the past is fine.
HISTORICAL_SOURCES = frozenset({ChangeSource.IMPORT, ChangeSource.SYSTEM})
_CHANNELS: dict[str, str] = {ChangeSource.API: AuditChannel.API, ChangeSource.IMPORT: AuditChannel.COMMAND}

# Which status may follow which through appointment_set_status (cancel and move have their own services);
# when each may happen is `visit_action_problem` (careline/scheduling/visit_actions.py).
STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    before: frozenset(status for action, status in ACTION_STATUS.items() if before in FROM_STATUSES[action])
    for before in AppointmentStatus.values
}


def _should_notify(source: str, notify: bool | None) -> bool:
    return source in NOTIFYING_SOURCES if notify is None else notify


def _audit(*, appointment: Appointment, action: str, actor: Actor, source: str, detail: str) -> None:
    # An actor from a request carries its channel; one built without (a task, a reply) takes the source's.
    channel = (
        actor.channel if actor.channel != AuditChannel.SYSTEM else _CHANNELS.get(source, AuditChannel.SYSTEM)
    )
    audit_record(
        action=action,
        actor=actor,
        obj=appointment,
        patient_id=appointment.patient_id,
        detail=f"{detail}; source {source}",
        channel=channel,
        actor_label="" if actor.user is not None else f"{ChangeSource(source).label}",
    )


def _record_change(
    appointment: Appointment, *, from_status: str, actor: Actor, source: str, detail: str = ""
) -> AppointmentStatusChange:
    return AppointmentStatusChange.objects.create(
        appointment=appointment,
        from_status=from_status,
        to_status=appointment.status,
        actor=actor.user,
        source=source,
        detail=detail[:200],
    )


def _lock_clinicians(*clinicians: Any) -> None:
    """Lock the clinicians' rows in id order (a fixed order, so two moves cannot deadlock). FOR NO KEY UPDATE
    (here and on appointments): it serialises bookings without blocking other transactions' foreign-key checks
    on the row, which PostgreSQL makes at commit (every audit entry names its staff user)."""
    ids = sorted({c.pk for c in clinicians})
    list(
        User.objects.select_for_update(no_key=True)
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def conflict_message(
    *, clinician: Any, location: Location, starts_at: datetime, ends_at: datetime
) -> str | None:
    """Why CLINICIAN is already taken between STARTS_AT and ENDS_AT (an active visit), or None."""
    other = (
        Appointment.objects.filter(
            clinician=clinician, status__in=ACTIVE_STATUSES, starts_at__lt=ends_at, ends_at__gt=starts_at
        )
        .select_related("location")
        .first()
    )
    if other is None:
        return None
    zone = location.zone
    return (
        f"{clinician} already has a visit from {other.starts_at.astimezone(zone):%H:%M} to "
        f"{other.ends_at.astimezone(zone):%H:%M} on {staff_day(other.starts_at.astimezone(zone))}."
    )


def _check_booking(
    *,
    patient: Patient,
    clinician: Any,
    location: Location,
    appointment_type: AppointmentType,
    starts_at: datetime,
    source: str,
    allow_outside_hours: bool,
    duration_minutes: int | None = None,
) -> datetime:
    """The visit's end; ValidationError (by field) for anything that makes the booking impossible."""
    if timezone.is_naive(starts_at):
        raise ValidationError({"starts_at": ["The start time needs a time zone."]})
    if not appointment_type.is_active:
        raise ValidationError({"appointment_type": ["This appointment type is no longer offered."]})
    if not location.is_active:
        raise ValidationError({"location": ["This location is closed."]})
    if not clinician.is_active:
        raise ValidationError({"clinician": ["This clinician's account is inactive."]})
    if not appointment_type.locations.filter(pk=location.pk).exists():
        raise ValidationError({"location": [f"{appointment_type} is not offered at {location}."]})
    if not appointment_type.clinicians.filter(pk=clinician.pk).exists():
        raise ValidationError({"clinician": [f"{clinician} does not take {appointment_type} visits."]})
    if not patient.may_be_contacted:
        raise ValidationError({"patient": ["This patient is recorded as deceased."]})
    if source not in HISTORICAL_SOURCES and starts_at < timezone.now():
        raise ValidationError({"starts_at": ["That time has already passed."]})
    ends_at = starts_at + timedelta(minutes=duration_minutes or appointment_type.duration_minutes)
    if not allow_outside_hours:
        problem = availability_problem(
            clinician=clinician, location=location, starts_at=starts_at, ends_at=ends_at
        )
        if problem:
            raise ValidationError({"starts_at": [problem]})
    return ends_at


def _reminders_by_email(patient: Patient, actor: Actor) -> None:
    """Record email as PATIENT's way of getting appointment reminders (staff chose it while booking)."""
    if not patient.email:
        raise ValidationError({"patient": ["The patient has no email address to send reminders to."]})
    if patient.confidential_communications:
        raise ValidationError({"patient": ["Confidential communications: no reminders by text or email."]})
    contact_preference_set(
        patient=patient, purpose=Purpose.APPOINTMENTS, channel=ContactChannel.EMAIL, actor=actor
    )


def _create(
    *,
    patient: Patient,
    clinician: Any,
    location: Location,
    appointment_type: AppointmentType,
    starts_at: datetime,
    actor: Actor,
    source: str,
    series: AppointmentSeries | None,
    allow_outside_hours: bool,
    status: str = AppointmentStatus.BOOKED,
    external_id: str | None = None,
    rescheduled_from: Appointment | None = None,
    duration_minutes: int | None = None,
) -> Appointment:
    """Check and insert one visit; the caller holds the clinician's lock and the transaction."""
    ends_at = _check_booking(
        patient=patient,
        clinician=clinician,
        location=location,
        appointment_type=appointment_type,
        starts_at=starts_at,
        source=source,
        allow_outside_hours=allow_outside_hours,
        duration_minutes=duration_minutes,
    )
    if status in ACTIVE_STATUSES:
        conflict = conflict_message(
            clinician=clinician, location=location, starts_at=starts_at, ends_at=ends_at
        )
        if conflict:
            raise ValidationError({"starts_at": [conflict]})
    appointment = Appointment.objects.create(
        patient=patient,
        clinician=clinician,
        location=location,
        appointment_type=appointment_type,
        starts_at=starts_at,
        ends_at=ends_at,
        status=status,
        series=series,
        rescheduled_from=rescheduled_from,
        external_id=external_id or None,
        created_by=actor.user,
    )
    _record_change(appointment, from_status="", actor=actor, source=source)
    return appointment


def appointment_book(
    *,
    patient: Patient,
    clinician: Any,
    location: Location,
    appointment_type: AppointmentType,
    starts_at: datetime,
    actor: Actor,
    source: str,
    series: AppointmentSeries | None = None,
    allow_outside_hours: bool = False,
    notify: bool | None = None,
    status: str = AppointmentStatus.BOOKED,
    external_id: str | None = None,
    reminders_by_email: bool = False,
) -> Appointment:
    """Book a visit; ValidationError when the clinician is taken, away or not working then, or it is past.

    STATUS and EXTERNAL_ID are for imports of visits that already happened elsewhere. REMINDERS_BY_EMAIL
    records email as the patient's reminder channel first (their reminders are planned by it).
    """
    with transaction.atomic():
        _lock_clinicians(clinician)
        if reminders_by_email:
            _reminders_by_email(patient, actor)
        appointment = _create(
            status=status,
            external_id=external_id,
            patient=patient,
            clinician=clinician,
            location=location,
            appointment_type=appointment_type,
            starts_at=starts_at,
            actor=actor,
            source=source,
            series=series,
            allow_outside_hours=allow_outside_hours,
        )
        _audit(appointment=appointment, action=AuditAction.CREATE, actor=actor, source=source,
               detail="appointment booked")  # fmt: skip
        publish(
            AppointmentBooked(
                appointment_id=appointment.pk,
                patient_id=appointment.patient_id,
                status=appointment.status,
                source=source,
                notify=appointment.is_active and _should_notify(source, notify),
            )
        )
    return appointment


def _action_problem(appointment: Appointment, action: VisitAction, source: str) -> str:
    """Why ACTION may not be done now (visit_actions' rule); imports and the system answer to the status only."""
    if source in HISTORICAL_SOURCES:
        allowed = appointment.status in FROM_STATUSES[action]
        return (
            ""
            if allowed
            else f"A visit that is {appointment.get_status_display().lower()} cannot be changed."
        )
    return visit_action_problem(appointment, action, timezone.now())


def _require_movable(appointment: Appointment, action: VisitAction, source: str) -> None:
    if appointment.status not in FROM_STATUSES[action]:
        # Kept word for word: API clients read it.
        raise ValidationError(
            f"A visit that is {appointment.get_status_display().lower()} cannot be changed."
        )
    problem = _action_problem(appointment, action, source)
    if problem:
        raise ValidationError(problem)


def _moved_length(old: Appointment, duration_minutes: int | None) -> int | None:
    """The moved visit's length in minutes, or None for its type's length; ValidationError if not allowed."""
    kept = int((old.ends_at - old.starts_at).total_seconds() // 60)
    if not old.appointment_type.variable_length:
        if duration_minutes is not None and duration_minutes != old.appointment_type.duration_minutes:
            raise ValidationError(
                {"duration_minutes": [f"{old.appointment_type} visits have a fixed length."]}
            )
        return None
    if duration_minutes is None:
        return kept  # a moved visit of a variable-length type keeps the length it was given
    low, high = VISIT_MINUTES_RANGE
    if not low <= duration_minutes <= high or duration_minutes % 5:
        raise ValidationError(
            {"duration_minutes": [f"A visit lasts {low} to {high} minutes, in steps of 5 minutes."]}
        )
    return duration_minutes


def appointment_move(
    *,
    appointment: Appointment,
    starts_at: datetime,
    actor: Actor,
    source: str,
    clinician: Any = None,
    location: Location | None = None,
    allow_outside_hours: bool = False,
    notify: bool | None = None,
    duration_minutes: int | None = None,
) -> Appointment:
    """Move a visit: the old row becomes RESCHEDULED and a new one is booked from it, in one transaction.

    DURATION_MINUTES gives a visit of a variable-length type a new length (a resize on the calendar); without
    it such a visit keeps its length, and any other visit takes its type's.
    """
    new_clinician = clinician or appointment.clinician
    new_location = location or appointment.location
    with transaction.atomic():
        _lock_clinicians(appointment.clinician, new_clinician)
        old = Appointment.objects.select_for_update(no_key=True).get(pk=appointment.pk)
        _require_movable(old, VisitAction.MOVE, source)
        length = _moved_length(old, duration_minutes)
        from_status = old.status
        old.status = AppointmentStatus.RESCHEDULED
        old.save(update_fields=["status", "updated_at"])
        _record_change(old, from_status=from_status, actor=actor, source=source, detail="moved")
        new = _create(
            patient=old.patient,
            clinician=new_clinician,
            location=new_location,
            appointment_type=old.appointment_type,
            starts_at=starts_at,
            actor=actor,
            source=source,
            series=old.series,
            allow_outside_hours=allow_outside_hours,
            rescheduled_from=old,
            duration_minutes=length,
        )
        zone = new_location.zone
        _audit(appointment=new, action=AuditAction.UPDATE, actor=actor, source=source,
               detail=f"appointment {old.pk} moved to {new.starts_at.astimezone(zone):%Y-%m-%d %H:%M}")  # fmt: skip
        publish(
            AppointmentMoved(
                appointment_id=new.pk,
                previous_appointment_id=old.pk,
                patient_id=new.patient_id,
                source=source,
                notify=_should_notify(source, notify),
            )
        )
    appointment.status = old.status
    return new


def appointment_cancel(
    *,
    appointment: Appointment,
    actor: Actor,
    source: str,
    by_patient: bool,
    reason: str = "",
    notify: bool | None = None,
) -> Appointment:
    """Cancel a visit (by the patient or the clinic), withdraw its reminders and offer the slot to the waitlist."""
    with transaction.atomic():
        locked = Appointment.objects.select_for_update(no_key=True).get(pk=appointment.pk)
        _require_movable(locked, VisitAction.CANCEL, source)
        from_status = locked.status
        locked.status = (
            AppointmentStatus.CANCELLED_PATIENT if by_patient else AppointmentStatus.CANCELLED_CLINIC
        )
        locked.save(update_fields=["status", "updated_at"])
        _record_change(locked, from_status=from_status, actor=actor, source=source, detail=reason)
        _audit(appointment=locked, action=AuditAction.UPDATE, actor=actor, source=source,
               detail=f"appointment cancelled by the {'patient' if by_patient else 'clinic'}")  # fmt: skip
        publish(
            AppointmentCancelled(
                appointment_id=locked.pk,
                patient_id=locked.patient_id,
                source=source,
                by_patient=by_patient,
                # The patient who cancelled knows; a notice is for the clinic's own cancellations.
                notify=not by_patient and _should_notify(source, notify),
            )
        )
    appointment.status = locked.status
    return locked


def appointment_set_status(
    *,
    appointment: Appointment,
    status: str,
    actor: Actor,
    source: str,
    detail: str = "",
) -> Appointment:
    """Confirm, check in, complete or mark a no-show, when visit_actions allows it at this moment."""
    with transaction.atomic():
        if status in ACTIVE_STATUSES:
            _lock_clinicians(appointment.clinician)
        locked = (
            Appointment.objects.select_for_update(no_key=True)
            .select_related("location", "clinician")
            .get(pk=appointment.pk)
        )
        action = STATUS_ACTION.get(status)
        if action is None or locked.status not in FROM_STATUSES[action]:
            label = AppointmentStatus(status).label.lower() if status in AppointmentStatus.values else status
            raise ValidationError(
                {"status": [f"A visit that is {locked.get_status_display().lower()} cannot become {label}."]}
            )
        problem = _action_problem(locked, action, source)
        if problem:
            raise ValidationError({"status": [problem]})
        if status in ACTIVE_STATUSES and locked.status not in ACTIVE_STATUSES:
            conflict = conflict_message(
                clinician=locked.clinician,
                location=locked.location,
                starts_at=locked.starts_at,
                ends_at=locked.ends_at,
            )
            if conflict:
                raise ValidationError({"status": [conflict]})
        from_status = locked.status
        locked.status = status
        locked.save(update_fields=["status", "updated_at"])
        _record_change(locked, from_status=from_status, actor=actor, source=source, detail=detail)
        _audit(appointment=locked, action=AuditAction.UPDATE, actor=actor, source=source,
               detail=f"appointment status {from_status} -> {status}")  # fmt: skip
        publish(
            AppointmentStatusChanged(
                appointment_id=locked.pk,
                patient_id=locked.patient_id,
                from_status=from_status,
                to_status=status,
                source=source,
            )
        )
    appointment.status = locked.status
    return locked


# --- series ------------------------------------------------------------------------------------------


@dataclass
class SeriesConflict:
    """One date of a series that cannot be booked, and why."""

    day: date
    starts_at: datetime | None
    message: str


@dataclass
class SeriesResult:
    """A booked series (or None when nothing was booked), its visits and the dates that could not be booked."""

    series: AppointmentSeries | None
    appointments: list[Appointment] = field(default_factory=list)
    conflicts: list[SeriesConflict] = field(default_factory=list)


def series_dates(*, first_day: date, count: int, interval_weeks: int) -> list[date]:
    """The local dates of a weekly series."""
    return [first_day + timedelta(weeks=interval_weeks * n) for n in range(count)]


def appointment_series_book(
    *,
    patient: Patient,
    clinician: Any,
    location: Location,
    appointment_type: AppointmentType,
    first_day: date,
    clock: Any,
    count: int,
    interval_weeks: int,
    actor: Actor,
    source: str,
    book_free_dates_only: bool = False,
    notify: bool | None = None,
    reminders_by_email: bool = False,
) -> SeriesResult:
    """Book COUNT visits every INTERVAL_WEEKS weeks at CLOCK local time from FIRST_DAY.

    All dates are checked first. With any conflict, nothing is booked and the conflicts are returned, unless
    BOOK_FREE_DATES_ONLY (the person confirmed it), when the free dates are booked and the rest reported.
    """
    if not 2 <= count <= MAX_SERIES_COUNT:
        raise ValidationError({"count": [f"A series has 2 to {MAX_SERIES_COUNT} visits."]})
    if not 1 <= interval_weeks <= 12:
        raise ValidationError({"interval_weeks": ["Repeat every 1 to 12 weeks."]})
    zone = location.zone
    with transaction.atomic():
        _lock_clinicians(clinician)
        planned: list[tuple[date, datetime]] = []
        conflicts: list[SeriesConflict] = []
        for day in series_dates(first_day=first_day, count=count, interval_weeks=interval_weeks):
            try:
                starts_at = local_to_utc(zone, day, clock)
            except ValueError as exc:
                conflicts.append(SeriesConflict(day, None, str(exc)))
                continue
            try:
                ends_at = _check_booking(patient=patient, clinician=clinician, location=location,
                                         appointment_type=appointment_type, starts_at=starts_at, source=source,
                                         allow_outside_hours=False)  # fmt: skip
            except ValidationError as exc:
                conflicts.append(SeriesConflict(day, starts_at, " ".join(exc.messages)))
                continue
            message = conflict_message(
                clinician=clinician, location=location, starts_at=starts_at, ends_at=ends_at
            )
            if message:
                conflicts.append(SeriesConflict(day, starts_at, message))
                continue
            planned.append((day, starts_at))
        if (conflicts and not book_free_dates_only) or not planned:
            return SeriesResult(series=None, conflicts=conflicts)
        if reminders_by_email:
            _reminders_by_email(patient, actor)
        series = AppointmentSeries.objects.create(
            patient=patient, interval_weeks=interval_weeks, count=len(planned),
            created_by=actor.user,
        )  # fmt: skip
        booked = [
            appointment_book(
                patient=patient,
                clinician=clinician,
                location=location,
                appointment_type=appointment_type,
                starts_at=starts_at,
                actor=actor,
                source=source,
                series=series,
                # One confirmation for the series, not one text per visit.
                notify=_should_notify(source, notify) if index == 0 else False,
            )
            for index, (_, starts_at) in enumerate(planned)
        ]
    return SeriesResult(series=series, appointments=booked, conflicts=conflicts)
