"""Helpers for the reminder tests: appointment types, appointments and rules made directly in the database."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import pytest

from careline.scheduling.models import Appointment, AppointmentType, ReminderRule
from careline.scheduling.texts import default_template
from careline.testing.personas import Personas


@pytest.fixture(autouse=True)
def _no_default_rules(db: None) -> None:
    """Each test defines its own rules (the shipped defaults come from a data migration)."""
    ReminderRule.objects.all().delete()


def make_type(name: str = "Follow-up", **fields: Any) -> AppointmentType:
    kind, _ = AppointmentType.objects.get_or_create(name=name, defaults=fields)
    return kind


def make_appointment(
    personas: Personas, starts_at: datetime, *, patient: Any = None, **fields: Any
) -> Appointment:
    kind = fields.pop("appointment_type", None) or make_type()
    return Appointment.objects.create(
        patient=patient or personas.pat,
        clinician=personas.clinician_a,
        location=fields.pop("location", personas.location_a),
        appointment_type=kind,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=kind.duration_minutes),
        **fields,
    )


def days_rule(days: int, at: time, **fields: Any) -> ReminderRule:
    fields.setdefault("template_en", default_template("en"))
    fields.setdefault("translations", {"es": default_template("es")})
    return ReminderRule.objects.create(
        name=f"{days} days before at {at}", days_before=days, at_local_time=at, **fields
    )


def minutes_rule(minutes: int, **fields: Any) -> ReminderRule:
    fields.setdefault("template_en", default_template("en"))
    fields.setdefault("translations", {"es": default_template("es")})
    return ReminderRule.objects.create(name=f"{minutes} minutes before", minutes_before=minutes, **fields)
