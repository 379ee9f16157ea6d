"""Shared set-up for appointment tests: a type, clinician_a's split-day hours at location A, helpers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from careline.core.actor import Actor
from careline.scheduling.models import AppointmentType, WorkingHours
from careline.scheduling.queries.appointments import local_to_utc
from careline.testing.personas import Personas

# A Monday well in the future, in winter (America/Chicago is UTC-6).
MONDAY = date(2031, 1, 6)


@dataclass
class Schedule:
    personas: Personas
    checkup: AppointmentType


def make_schedule(personas: Personas, *, duration: int = 30) -> Schedule:
    """Clinician A takes 'Checkup' visits at location A, Monday to Friday 09:00-12:00 and 13:00-17:00."""
    checkup = AppointmentType.objects.create(
        name="Checkup", duration_minutes=duration, name_safe_to_text=True
    )
    checkup.locations.add(personas.location_a)
    checkup.clinicians.add(personas.clinician_a)
    for weekday in range(5):
        WorkingHours.objects.create(
            clinician=personas.clinician_a,
            location=personas.location_a,
            weekday=weekday,
            starts=time(9),
            ends=time(12),
        )
        WorkingHours.objects.create(
            clinician=personas.clinician_a,
            location=personas.location_a,
            weekday=weekday,
            starts=time(13),
            ends=time(17),
        )
    return Schedule(personas, checkup)


def at_a(personas: Personas, day: date, hour: int, minute: int = 0) -> datetime:
    """DAY at HOUR:MINUTE local time at location A, in UTC."""
    return local_to_utc(personas.location_a.zone, day, time(hour, minute))


def book(schedule: Schedule, starts_at: datetime, **extra: Any) -> Any:
    """Book Pat with clinician A at location A."""
    from careline.scheduling.services.appointments import appointment_book

    p = schedule.personas
    fields: dict[str, Any] = {
        "patient": p.pat, "clinician": p.clinician_a, "location": p.location_a,
        "appointment_type": schedule.checkup, "starts_at": starts_at, "actor": Actor.staff(p.front_a), "source": "staff",
    }  # fmt: skip
    fields.update(extra)
    return appointment_book(**fields)
