"""Shared set-up of the care tests: the clock, a program enrolment and the phone texting it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from careline.care.models import CareProgram, Enrolment
from careline.care.services.enrolment import enrolment_create
from careline.core.actor import Actor
from careline.messaging.models import Message
from careline.messaging.services.channels import simulator_channel
from careline.messaging.services.simulator import simulator_inbound
from careline.patients.models import Patient

PAT_NUMBER = "+13125550111"
# Monday 2031-01-06 08:00 in Chicago (14:00 UTC): before Pat's 9:00 check-in.
MONDAY_8_CHICAGO = datetime(2031, 1, 6, 14, 0, tzinfo=UTC)


def programs_seeded() -> None:
    """The seeded programs, again if a transactional test flushed the tables since the migration ran."""
    from importlib import import_module

    from django.apps import apps

    import_module("careline.care.migrations.0002_seed_programs").seed(apps, None)


def enrolled(patient: Patient, user: Any, code: str = "hypertension", **fields: Any) -> Enrolment:
    """PATIENT enrolled by USER in the seeded program CODE (texts by the simulator)."""
    simulator_channel()
    programs_seeded()
    return enrolment_create(
        patient=patient, program=CareProgram.objects.get(code=code), channel="text", actor=Actor.staff(user),
        notify=False, **fields,
    )  # fmt: skip


def text(body: str, number: str = PAT_NUMBER) -> Message:
    """The patient at NUMBER texts BODY, through the real inbound path."""
    return simulator_inbound(channel=simulator_channel(), from_number=number, body=body)


def answers(number: str = PAT_NUMBER) -> list[Message]:
    """The texts sent to NUMBER, oldest first."""
    return list(
        Message.objects.filter(direction=Message.Direction.OUTBOUND, to_address=number).order_by(
            "created_at", "id"
        )
    )
