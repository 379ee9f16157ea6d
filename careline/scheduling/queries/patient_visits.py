"""Reads for patient-facing pages (the portal): a patient's own visits, their state in words, free times to move to.

Every function takes the patient (never an id from a request) so a caller cannot reach another patient's
visits; the portal scopes its URL ids to `request.portal.patient` before calling.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import pgettext_lazy

from careline.scheduling.models import ACTIVE_STATUSES, Appointment, AppointmentStatus
from careline.scheduling.queries.appointments import Slot, free_slots

# Never offer a time starting within the hour: the same lead the text replies use (services/replies.py).
SLOT_LEAD = timedelta(hours=1)
PATIENT_RESCHEDULE_DAYS = 28  # the portal offers four weeks of free times (texts offer two)
PATIENT_SLOT_LIMIT = 60
PAST_SHOWN = 20
UPCOMING_SHOWN = 20

# A visit's state as the patient reads it.
PATIENT_STATUS_WORDS: dict[str, Any] = {
    AppointmentStatus.BOOKED: pgettext_lazy("visit state for a patient", "Booked"),
    AppointmentStatus.CONFIRMED: pgettext_lazy("visit state for a patient", "Confirmed"),
    AppointmentStatus.CANCELLED_PATIENT: pgettext_lazy(
        "visit state for a patient", "Cancelled at your request"
    ),
    AppointmentStatus.CANCELLED_CLINIC: pgettext_lazy("visit state for a patient", "Cancelled by the clinic"),
    AppointmentStatus.RESCHEDULED: pgettext_lazy("visit state for a patient", "Moved to another time"),
    AppointmentStatus.CHECKED_IN: pgettext_lazy("visit state for a patient", "Checked in"),
    AppointmentStatus.COMPLETED: pgettext_lazy("visit state for a patient", "Completed"),
    AppointmentStatus.NO_SHOW: pgettext_lazy("visit state for a patient", "Missed"),
}
PAST_UNRECORDED = pgettext_lazy("visit state for a patient", "Past")


def patient_status_words(appointment: Appointment, now: datetime) -> str:
    """APPOINTMENT's state in the patient's words ('Confirmed', 'Cancelled by the clinic', 'Past')."""
    if (
        appointment.status in (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)
        and appointment.ends_at <= now
    ):
        return str(PAST_UNRECORDED)
    return str(PATIENT_STATUS_WORDS.get(appointment.status, appointment.get_status_display()))


def _patient_visits(patient: Any) -> QuerySet[Appointment]:
    return Appointment.objects.filter(patient=patient).select_related(
        "location", "clinician", "appointment_type"
    )


@dataclass
class PatientVisits:
    """A patient's upcoming visits (soonest first) and past or cancelled ones (newest first)."""

    upcoming: list[Appointment]
    past: list[Appointment]


def patient_visits(patient: Any, *, now: datetime) -> PatientVisits:
    """PATIENT's upcoming visits that hold a time, and the others: past or cancelled (moved ones left out).

    Two queries."""
    visits = _patient_visits(patient).exclude(status=AppointmentStatus.RESCHEDULED)
    upcoming = list(
        visits.filter(status__in=ACTIVE_STATUSES, ends_at__gt=now).order_by("starts_at", "id")[
            :UPCOMING_SHOWN
        ]
    )
    past = list(
        visits.exclude(status__in=ACTIVE_STATUSES, ends_at__gt=now).order_by("-starts_at", "-id")[:PAST_SHOWN]
    )
    return PatientVisits(upcoming=upcoming, past=past)


def patient_next_visit(patient: Any, *, now: datetime) -> Appointment | None:
    """PATIENT's next visit that has not ended and holds a time (booked, confirmed or checked in). One query."""
    return (
        _patient_visits(patient)
        .filter(status__in=ACTIVE_STATUSES, ends_at__gt=now)
        .order_by("starts_at", "id")
        .first()
    )


def patient_visits_matching(patient: Any, words: list[str], *, limit: int) -> list[Appointment]:
    """PATIENT's visits (moved ones left out) whose type, place or clinician holds every one of WORDS, newest
    first. One query."""
    from django.db.models import Q

    visits = _patient_visits(patient).exclude(status=AppointmentStatus.RESCHEDULED)
    for word in words:
        visits = visits.filter(
            Q(appointment_type__name__icontains=word)
            | Q(location__name__icontains=word)
            | Q(clinician__full_name__icontains=word)
        )
    return list(visits.order_by("-starts_at", "-id")[:limit])


def patient_visit(patient: Any, pk: int) -> Appointment | None:
    """Visit PK if it is PATIENT's own, else None (so another patient's id answers 404)."""
    return _patient_visits(patient).filter(pk=pk).first()


def reschedule_slots(
    appointment: Appointment, *, now: datetime, clinician: Any = None, limit: int = PATIENT_SLOT_LIMIT
) -> list[Slot]:
    """Free times of APPOINTMENT's type at its location (any clinician unless CLINICIAN) a patient may move to."""
    return free_slots(
        appointment_type=appointment.appointment_type,
        start=now + SLOT_LEAD,
        end=now + timedelta(days=PATIENT_RESCHEDULE_DAYS),
        now=now,
        clinician=clinician,
        location=appointment.location,
        limit=limit,
    )


def reschedule_slot_offered(
    appointment: Appointment, *, now: datetime, starts_at: datetime, clinician: Any
) -> Slot | None:
    """The free slot at STARTS_AT with CLINICIAN that `reschedule_slots` would offer, or None."""
    if starts_at < now + SLOT_LEAD or starts_at > now + timedelta(days=PATIENT_RESCHEDULE_DAYS):
        return None
    duration = timedelta(minutes=appointment.appointment_type.duration_minutes)
    found = free_slots(
        appointment_type=appointment.appointment_type,
        start=starts_at,
        end=starts_at + duration,
        now=now,
        clinician=clinician,
        location=appointment.location,
        limit=1,
    )
    return found[0] if found and found[0].starts_at == starts_at else None
