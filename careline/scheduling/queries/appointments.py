"""Scheduling reads shared by views, the API and the reply handlers: free slots, calendars, visibility.

Times are stored in UTC. Working hours are wall-clock times in the location's zone, so every slot is built
from a local date and time and then converted: a week spanning a daylight-saving change still starts its
slots at 09:00 local on both sides of the change.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from careline.accounts.models import User
from careline.core.permissions import Perm, Role, has_perm
from careline.locations.models import Location
from careline.patients.queries import visible_patient_condition
from careline.scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    AppointmentType,
    TimeOff,
    WorkingHours,
)

GRID_MINUTES = 15  # every slot starts on a quarter hour
# The one way the appointment pages write a moment: "Mon 6 Jan 2031, 09:00" (staff_when, staff_day).
MAX_SLOT_RANGE_DAYS = 62  # a free-slot search covers at most two months


@dataclass(frozen=True)
class Slot:
    """A free time for one clinician at one location, long enough for one visit of a type."""

    starts_at: datetime
    ends_at: datetime
    clinician: Any
    location: Location
    appointment_type: AppointmentType

    @property
    def local_start(self) -> datetime:
        return self.starts_at.astimezone(self.location.zone)


def local_to_utc(zone: ZoneInfo, day: date, clock: time) -> datetime:
    """DAY at CLOCK on the wall in ZONE, as UTC; ValueError for a time skipped by a daylight-saving change."""
    naive = datetime.combine(day, clock.replace(tzinfo=None))
    aware = naive.replace(tzinfo=zone)  # fold=0: the first of two repeated autumn times
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise ValueError(f"{clock:%H:%M} does not exist on {day:%Y-%m-%d} (the clocks change that night).")
    return aware.astimezone(UTC)


def staff_day(day: date) -> str:
    """DAY as staff pages write it: 'Mon 6 Jan 2031'."""
    return f"{day:%a} {day.day} {day:%b %Y}"


def staff_when(moment: datetime, zone: ZoneInfo | str, *, clock_only: bool = False) -> str:
    """MOMENT on ZONE's wall clock as staff pages write it: 'Mon 6 Jan 2031, 09:00' (or '09:00')."""
    local = moment.astimezone(ZoneInfo(zone) if isinstance(zone, str) else zone)
    return f"{local:%H:%M}" if clock_only else f"{staff_day(local)}, {local:%H:%M}"


def step_minutes(appointment_type: AppointmentType) -> int:
    """How far apart a type's slots are: its duration rounded up to the 15-minute grid."""
    return max(GRID_MINUTES, math.ceil(appointment_type.duration_minutes / GRID_MINUTES) * GRID_MINUTES)


def locations_visible_to(user: Any) -> QuerySet[Location]:
    """Active locations whose calendars USER may see: all with PATIENT_VIEW_ALL_LOCATIONS, else their own."""
    if not has_perm(user, Perm.SCHEDULE_VIEW):
        return Location.objects.none()
    locations = Location.objects.filter(is_active=True)
    if has_perm(user, Perm.PATIENT_VIEW_ALL_LOCATIONS):
        return locations
    return locations.filter(pk__in=user.location_ids)


def appointments_visible_to(user: Any) -> QuerySet[Appointment]:
    """Appointments at USER's visible locations of patients USER may see."""
    if not has_perm(user, Perm.SCHEDULE_VIEW):
        return Appointment.objects.none()
    return Appointment.objects.filter(
        visible_patient_condition(user), location__in=locations_visible_to(user)
    ).select_related("patient", "patient__primary_location", "clinician", "location", "appointment_type")


def appointment_for_user(user: Any, pk: int, perm: str = Perm.SCHEDULE_VIEW) -> Appointment:
    """Appointment PK if USER holds PERM and may see it: 404 when there is none, 403 when it is not theirs."""
    if not Appointment.objects.filter(pk=pk).exists():
        raise Http404("No such appointment")
    if not has_perm(user, perm):
        raise PermissionDenied
    appointment = appointments_visible_to(user).filter(pk=pk).first()
    if appointment is None:
        raise PermissionDenied
    return appointment


def clinicians_visible_to(user: Any, location: Location | None = None) -> QuerySet[User]:
    """Active clinicians working at USER's visible locations (or at LOCATION)."""
    locations = locations_visible_to(user)
    if location is not None:
        locations = locations.filter(pk=location.pk)
    return (
        User.objects.filter(is_active=True, role_rows__role=Role.CLINICIAN, locations__in=locations)
        .distinct()
        .order_by("full_name", "id")
    )


def patient_upcoming_appointments(user: Any, patient: Any, *, limit: int = 5) -> list[Appointment]:
    """PATIENT's next active appointments that USER may see."""
    return list(
        appointments_visible_to(user)
        .filter(patient=patient, status__in=ACTIVE_STATUSES, ends_at__gt=timezone.now())
        .order_by("starts_at")[:limit]
    )


def patient_next_and_last_visit(user: Any, patient: Any) -> tuple[Appointment | None, Appointment | None]:
    """PATIENT's next visit still to come (booked or confirmed) and last visit that took place or was due
    (not cancelled or moved), among those USER may see. Two queries."""
    visible = appointments_visible_to(user).filter(patient=patient)
    now = timezone.now()
    upcoming = visible.filter(
        status__in=[AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN],
        ends_at__gt=now,
    ).order_by("starts_at", "id")
    past = visible.filter(
        status__in=[
            AppointmentStatus.BOOKED,
            AppointmentStatus.CONFIRMED,
            AppointmentStatus.CHECKED_IN,
            AppointmentStatus.COMPLETED,
            AppointmentStatus.NO_SHOW,
        ],
        starts_at__lte=now,
    ).order_by("-starts_at", "-id")
    next_visit = upcoming.first()
    last_visit = past.exclude(pk=next_visit.pk).first() if next_visit else past.first()
    return next_visit, last_visit


# --- availability ------------------------------------------------------------------------------------


def _local_periods(hours: list[WorkingHours], day: date) -> list[tuple[time, time]]:
    return [(h.starts, h.ends) for h in hours if h.weekday == day.weekday() and h.ends > h.starts]


def availability_problem(
    *, clinician: Any, location: Location, starts_at: datetime, ends_at: datetime
) -> str | None:
    """Why CLINICIAN cannot see a patient at LOCATION then (outside working hours, time off), or None."""
    zone = location.zone
    local_start, local_end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    hours = list(WorkingHours.objects.filter(clinician=clinician, location=location))
    # Working periods never cross midnight, so a visit must start and end on the same local day.
    covered = local_start.date() == local_end.date() and any(
        start <= local_start.time() and local_end.time() <= end
        for start, end in _local_periods(hours, local_start.date())
    )
    if not covered:
        return f"{clinician} does not work at {location} then."
    away = TimeOff.objects.filter(
        Q(location__isnull=True) | Q(location=location),
        clinician=clinician,
        starts_at__lt=ends_at,
        ends_at__gt=starts_at,
    ).exists()
    if away:
        return f"{clinician} is away then."
    return None


def _round_up_to_grid(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC).replace(second=0, microsecond=0) + (
        timedelta(minutes=1) if moment.second or moment.microsecond else timedelta()
    )
    extra = (-moment.minute) % GRID_MINUTES
    return moment + timedelta(minutes=extra)


def free_slots(
    *,
    appointment_type: AppointmentType,
    start: datetime,
    end: datetime,
    clinician: Any = None,
    location: Location | None = None,
    limit: int = 20,
    now: datetime | None = None,
) -> list[Slot]:
    """Free slots of APPOINTMENT_TYPE between START and END (never in the past), earliest first.

    Only clinicians who take the type, at locations that offer it, within their working hours (split days
    included) in the location's zone, outside time off and active appointments. Slots start on a 15-minute
    grid and are spaced by the type's duration. A constant number of queries whatever the range.
    """
    start = max(start, now or timezone.now())
    end = min(end, start + timedelta(days=MAX_SLOT_RANGE_DAYS))
    if end <= start or limit <= 0 or not appointment_type.is_active:
        return []
    start = _round_up_to_grid(start)
    duration = timedelta(minutes=appointment_type.duration_minutes)
    step = timedelta(minutes=step_minutes(appointment_type))

    clinicians = appointment_type.clinicians.filter(is_active=True)
    locations = appointment_type.locations.filter(is_active=True)
    if clinician is not None:
        clinicians = clinicians.filter(pk=clinician.pk)
    if location is not None:
        locations = locations.filter(pk=location.pk)
    hours = list(
        WorkingHours.objects.filter(clinician__in=clinicians, location__in=locations).select_related(
            "clinician", "location"
        )
    )
    if not hours:
        return []
    clinician_ids = {h.clinician_id for h in hours}
    busy: dict[int, list[tuple[datetime, datetime, int | None]]] = defaultdict(list)
    for appt in Appointment.objects.filter(
        clinician_id__in=clinician_ids, status__in=ACTIVE_STATUSES, starts_at__lt=end, ends_at__gt=start
    ).values_list("clinician_id", "starts_at", "ends_at"):
        busy[appt[0]].append((appt[1], appt[2], None))
    for off in TimeOff.objects.filter(
        clinician_id__in=clinician_ids, starts_at__lt=end, ends_at__gt=start
    ).values_list("clinician_id", "starts_at", "ends_at", "location_id"):
        busy[off[0]].append((off[1], off[2], off[3]))

    by_pair: dict[tuple[int, int], list[WorkingHours]] = defaultdict(list)
    for h in hours:
        by_pair[(h.clinician_id, h.location_id)].append(h)

    found: list[Slot] = []
    for (clinician_id, location_id), periods in by_pair.items():
        pair_location = periods[0].location
        pair_clinician = periods[0].clinician
        zone = pair_location.zone
        blocked = [
            (b_start, b_end)
            for b_start, b_end, b_location in busy[clinician_id]
            if b_location is None or b_location == location_id
        ]
        day = start.astimezone(zone).date()
        last_day = end.astimezone(zone).date()
        pair_slots: list[Slot] = []
        while day <= last_day and len(pair_slots) < limit:
            for period_start, period_end in sorted(_local_periods(periods, day)):
                try:
                    cursor = local_to_utc(zone, day, period_start)
                    period_close = local_to_utc(zone, day, period_end)
                except ValueError:
                    continue  # a period starting or ending in a skipped hour: nobody works at 02:30
                cursor = _round_up_to_grid(cursor)
                while cursor + duration <= period_close and len(pair_slots) < limit:
                    slot_end = cursor + duration
                    if cursor < start or slot_end > end:
                        cursor += timedelta(minutes=GRID_MINUTES)
                        continue
                    if any(b_start < slot_end and b_end > cursor for b_start, b_end in blocked):
                        cursor += timedelta(minutes=GRID_MINUTES)
                        continue
                    pair_slots.append(Slot(cursor, slot_end, pair_clinician, pair_location, appointment_type))
                    cursor += step
            day += timedelta(days=1)
        found.extend(pair_slots)
    found.sort(key=lambda slot: (slot.starts_at, slot.clinician.full_name, slot.location.name))
    return found[:limit]


def appointment_cancel_suspected(appointment: Appointment) -> bool:
    """Whether the patient replied CANCEL by text (an opt-out by law) and may have meant this visit."""
    from careline.messaging.models import Conversation

    return (
        appointment.is_active
        and Conversation.objects.filter(
            patient_id=appointment.patient_id, visit_cancel_suspected=True
        ).exists()
    )
