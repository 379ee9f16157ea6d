"""Shared set-up of the outreach tests: consent entries, visits and audiences."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from careline.messaging.models import Message
from careline.messaging.services.channels import simulator_channel
from careline.outreach.models import Audience, RecallRule
from careline.patients.models import (
    ConsentEvent,
    ConsentKind,
    ConsentMethod,
    Patient,
    PatientPhone,
    PhoneKind,
)
from careline.scheduling.models import Appointment, AppointmentStatus, AppointmentType

PAT_NUMBER = "+13125550111"


def consent(number: str, kind: str, *, at: datetime | None = None, patient: Patient | None = None) -> None:
    """A consent ledger entry of KIND for NUMBER (marketing_given, given, revoked ...)."""
    ConsentEvent.objects.create(
        phone_number=number,
        kind=kind,
        method=ConsentMethod.FORM,
        patient=patient,
        occurred_at=at or timezone.now() - timedelta(days=400),
    )


def marketing_consent(patient: Patient) -> None:
    number = patient.phones.get(is_primary=True).number
    consent(number, ConsentKind.MARKETING_GIVEN, patient=patient)


def patient_at(personas: Any, mrn: str, number: str | None, **fields: Any) -> Patient:
    """A patient of location A texting at NUMBER (mobile, general consent given) unless NUMBER is None."""
    values = {
        "legal_first_name": "Robin",
        "legal_last_name": mrn.title(),
        "date_of_birth": datetime(1970, 6, 1).date(),
        "primary_location": personas.location_a,
        **fields,
    }
    patient = Patient.objects.create(mrn=mrn, **values)
    if number is not None:
        PatientPhone.objects.create(patient=patient, number=number, kind=PhoneKind.MOBILE, is_primary=True)
        consent(number, ConsentKind.GIVEN, patient=patient)
    return patient


def visit_type(personas: Any, name: str) -> AppointmentType:
    kind, _ = AppointmentType.objects.get_or_create(name=name, defaults={"duration_minutes": 30})
    kind.locations.add(personas.location_a)
    return kind


def visit(
    personas: Any,
    patient: Patient,
    kind: AppointmentType,
    starts_at: datetime,
    status: str = AppointmentStatus.COMPLETED,
) -> Appointment:
    """A visit of PATIENT at location A (rows only: no reminders, no notices)."""
    return Appointment.objects.create(
        patient=patient,
        clinician=personas.clinician_a,
        location=personas.location_a,
        appointment_type=kind,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=30),
        status=status,
    )


def audience(personas: Any, **fields: Any) -> Audience:
    values: dict[str, Any] = {
        "name": "Annual physical due",
        "location": personas.location_a,
        "rule": RecallRule.NO_VISIT,
    }
    values.update(fields)
    return Audience.objects.create(**values)


def texts_to(number: str) -> list[Message]:
    simulator_channel()
    return list(
        Message.objects.filter(direction=Message.Direction.OUTBOUND, to_address=number).order_by(
            "created_at", "id"
        )
    )
