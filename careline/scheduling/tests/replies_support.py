"""Shared set-up of the reply and waitlist tests: a clock, a simulator channel, prompts and texting helpers."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone

from careline.core.actor import Actor
from careline.messaging.models import Message, Prompt
from careline.messaging.services.channels import simulator_channel
from careline.messaging.services.prompts import prompt_record
from careline.messaging.services.simulator import simulator_inbound
from careline.patients.models import (
    ConsentEvent,
    ConsentKind,
    ConsentMethod,
    Patient,
    PatientPhone,
    PhoneKind,
)
from careline.scheduling.models import Appointment
from careline.scheduling.prompts import OWNER, PromptKind, appointment_subject
from careline.scheduling.queries.appointments import local_to_utc
from careline.scheduling.tests.appointment_support import Schedule, make_schedule
from careline.testing.personas import Personas

PAT_NUMBER = "+13125550111"
MONDAY = date(2031, 1, 6)
FRIDAY_BEFORE = date(2031, 1, 3)


def chicago(day: date, hour: int, minute: int = 0) -> datetime:
    """DAY at HOUR:MINUTE in Chicago (location A), as UTC."""
    from zoneinfo import ZoneInfo

    return local_to_utc(ZoneInfo("America/Chicago"), day, time(hour, minute))


# Friday 10:00 in Chicago: inside the texting window and opening hours.
NOW = chicago(FRIDAY_BEFORE, 10)


def setup(personas: Personas) -> Schedule:
    """Clinician A's hours and a 'Checkup' type (see appointment_support), and the simulator as the sms channel."""
    simulator_channel()
    return make_schedule(personas)


def booked(schedule: Schedule, starts_at: datetime, *, patient: Patient | None = None) -> Appointment:
    """A visit booked by the front desk (no texts: on_commit callbacks do not run in these tests)."""
    from careline.scheduling.services.appointments import appointment_book

    p = schedule.personas
    return appointment_book(
        patient=patient or p.pat,
        clinician=p.clinician_a,
        location=p.location_a,
        appointment_type=schedule.checkup,
        starts_at=starts_at,
        actor=Actor.staff(p.front_a),
        source="staff",
        notify=False,
    )


def reminded(appointment: Appointment, number: str = PAT_NUMBER) -> Prompt:
    """The prompt a sent reminder leaves (what the reminders code creates when it texts one)."""
    return prompt_record(
        owner=OWNER,
        phone_number=number,
        subject_key=appointment_subject(appointment.pk),
        kind=PromptKind.REMINDER,
        expires_at=appointment.starts_at,
    )


def text(body: str, number: str = PAT_NUMBER) -> Message:
    """The patient at NUMBER texts BODY, through the real inbound path."""
    return simulator_inbound(channel=simulator_channel(), from_number=number, body=body)


def answers(number: str = PAT_NUMBER) -> list[str]:
    """Bodies of the texts sent to NUMBER, oldest first."""
    return list(
        Message.objects.filter(direction=Message.Direction.OUTBOUND, to_address=number)
        .order_by("created_at", "id")
        .values_list("body", flat=True)
    )


def patient_with_phone(
    personas: Personas, name: str, number: str, *, consent: bool = True, **fields: Any
) -> Patient:
    """Another patient of location A with a mobile number (and text consent unless CONSENT is False)."""
    patient = Patient.objects.create(
        mrn=f"MRN-{name.upper()}",
        legal_first_name=name,
        legal_last_name="Tester",
        date_of_birth=date(1990, 1, 1),
        primary_location=personas.location_a,
        **fields,
    )
    PatientPhone.objects.create(patient=patient, number=number, kind=PhoneKind.MOBILE, is_primary=True)
    if consent:
        ConsentEvent.objects.create(
            phone_number=number,
            kind=ConsentKind.GIVEN,
            method=ConsentMethod.FORM,
            patient=patient,
            recorded_by=personas.front_a,
            occurred_at=timezone.now() - timedelta(days=1),
        )
    return patient


def reminded_visit(personas: Personas) -> Appointment:
    """Pat's visit on MONDAY at 9:00 at location A (the schedule set up), with its reminder sent."""
    appointment = booked(setup(personas), chicago(MONDAY, 9))
    reminded(appointment)
    return appointment
