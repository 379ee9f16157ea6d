"""Helpers for the announcement, administration and messages API tests."""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from careline.messaging.models import Announcement, Message, MessageState
from careline.messaging.services.channels import simulator_channel
from careline.patients.models import (
    ConsentEvent,
    ConsentKind,
    ConsentMethod,
    Patient,
    PatientPhone,
    PhoneKind,
)

PERSONAS = ("admin", "front_a", "clinician_a", "billing_a", "front_b")


def add_patient(
    location, mrn: str, phone: str, *, consent: str | None = ConsentKind.GIVEN, **fields
) -> Patient:
    """A patient at LOCATION with a mobile PHONE and, unless None, a consent ledger entry."""
    patient = Patient.objects.create(
        mrn=mrn,
        legal_first_name=fields.pop("first", "Robin"),
        legal_last_name="Nguyen",
        date_of_birth=date(1985, 1, 2),
        primary_location=location,
        **fields,
    )
    PatientPhone.objects.create(patient=patient, number=phone, kind=PhoneKind.MOBILE, is_primary=True)
    if consent:
        ConsentEvent.objects.create(
            phone_number=phone,
            kind=consent,
            method=ConsentMethod.FORM,
            patient=patient,
            occurred_at=timezone.now(),
        )
    return patient


def scheduled_message(patient: Patient, *, body: str = "See you tomorrow", hours: int = 30) -> Message:
    """A staff message set to go HOURS from now, written as the composer's send-later would."""
    from careline.messaging.outbound.compose import conversation_for

    channel = simulator_channel()
    address = patient.phones.all()[0].number
    conversation = conversation_for(channel=channel, contact=address, patient=patient)
    return Message.objects.create(
        conversation=conversation,
        channel=channel,
        patient=patient,
        direction=Message.Direction.OUTBOUND,
        to_address=address,
        body=body,
        state=MessageState.QUEUED,
        scheduled=True,
        due_at=_later(hours),
    )


def _later(hours: int):
    from datetime import timedelta

    return timezone.now() + timedelta(hours=hours)


def announcement(
    user, *, location=None, body: str = "Hi {first_name}, we are closed Monday."
) -> Announcement:
    return Announcement.objects.create(
        title="Closed Monday", body=body, location=location, created_by=user, state=Announcement.State.SENDING
    )
