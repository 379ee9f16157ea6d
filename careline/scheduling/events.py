"""What happens to appointments, published by `services/appointments.py` (and the visit import) for listeners.

Payloads are ids and the few facts a listener needs to decide whether to act; a listener that needs more
reads the rows. Subscribe with `careline.core.events.subscribe` in your AppConfig.ready(); see "How to react to
an appointment change" in docs/architecture.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from careline.core.events import Event


@dataclass(frozen=True, kw_only=True)
class AppointmentBooked(Event):
    """A visit was booked (one event per visit of a series); STATUS is its status (imports may book past visits).

    NOTIFY: the patient should be told (the visit is active and the change's source or the caller says so).
    """

    appointment_id: int
    patient_id: int
    status: str
    source: str
    notify: bool


@dataclass(frozen=True, kw_only=True)
class AppointmentMoved(Event):
    """A visit moved: PREVIOUS_APPOINTMENT_ID is now RESCHEDULED, APPOINTMENT_ID is the booked replacement."""

    appointment_id: int
    previous_appointment_id: int
    patient_id: int
    source: str
    notify: bool


@dataclass(frozen=True, kw_only=True)
class AppointmentCancelled(Event):
    """A visit was cancelled by the patient (BY_PATIENT) or the clinic; NOTIFY: the patient should be told."""

    appointment_id: int
    patient_id: int
    source: str
    by_patient: bool
    notify: bool


@dataclass(frozen=True, kw_only=True)
class AppointmentStatusChanged(Event):
    """A visit's status changed other than by a move or cancellation (confirmed, checked in, an import...)."""

    appointment_id: int
    patient_id: int
    from_status: str
    to_status: str
    source: str


APPOINTMENT_EVENTS: tuple[type[Event], ...] = (
    AppointmentBooked,
    AppointmentMoved,
    AppointmentCancelled,
    AppointmentStatusChanged,
)
