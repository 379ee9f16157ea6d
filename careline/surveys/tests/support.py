"""Shared set-up of the survey tests: a location asking, a completed visit of Pat's, the phone answering."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from careline.core.actor import Actor
from careline.messaging.models import Message
from careline.messaging.services.channels import simulator_channel
from careline.messaging.services.simulator import simulator_inbound
from careline.scheduling.services.appointments import appointment_set_status
from careline.scheduling.tests.appointment_support import MONDAY, Schedule, at_a, book
from careline.surveys.models import SurveyRequest, SurveySettings
from careline.testing.personas import Personas

PAT_NUMBER = "+13125550111"
# Monday 2031-01-06 08:00 in Chicago (14:00 UTC).
MONDAY_8_CHICAGO = datetime(2031, 1, 6, 14, 0, tzinfo=UTC)


def surveys_on(personas: Personas, **fields: Any) -> SurveySettings:
    """Location A asks about completed visits (CSAT, 2 hours after, with the follow-up) unless FIELDS say."""
    simulator_channel()
    values: dict[str, Any] = {"enabled": True, **fields}
    row, _ = SurveySettings.objects.update_or_create(location=personas.location_a, defaults=values)
    return row


def completed_visit(schedule: Schedule, clock: Any, *, day: Any = MONDAY, hour: int = 10) -> SurveyRequest:
    """Pat's visit at HOUR on DAY, booked before and completed 30 minutes in (the clock is moved there)."""
    clock.move_to(at_a(schedule.personas, day, 8) - timedelta(days=1), tick=False)
    appointment = book(schedule, at_a(schedule.personas, day, hour))
    clock.move_to(at_a(schedule.personas, day, hour, 30), tick=False)
    appointment_set_status(
        appointment=appointment,
        status="completed",
        actor=Actor.staff(schedule.personas.front_a),
        source="staff",
    )
    return SurveyRequest.objects.get(appointment=appointment)


def text(body: str, number: str = PAT_NUMBER) -> Message:
    """The patient at NUMBER texts BODY, through the real inbound path."""
    return simulator_inbound(channel=simulator_channel(), from_number=number, body=body)


def sent_to(number: str = PAT_NUMBER) -> list[Message]:
    """The texts sent to NUMBER, oldest first."""
    return list(
        Message.objects.filter(direction=Message.Direction.OUTBOUND, to_address=number).order_by(
            "created_at", "id"
        )
    )
