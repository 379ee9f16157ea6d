"""The demo clinic's surveys: settings on at each location and answered surveys of completed visits."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from careline.core.actor import Actor
from careline.messaging.models import Message
from careline.scheduling.services.appointments import appointment_set_status
from careline.scheduling.tests.appointment_support import MONDAY, at_a, book, make_schedule
from careline.surveys.demo import surveys_seed_demo
from careline.surveys.models import SurveyRequest, SurveySettings
from careline.surveys.tests.support import MONDAY_8_CHICAGO

pytestmark = pytest.mark.clock(MONDAY_8_CHICAGO)


def test_the_demo_turns_surveys_on_and_answers_completed_visits_once_in_30_days(
    personas: Any, clock: Any
) -> None:
    schedule = make_schedule(personas)
    clock.move_to(at_a(personas, MONDAY, 8) - timedelta(days=1), tick=False)
    visits = [book(schedule, at_a(personas, MONDAY, hour)) for hour in (9, 10)]
    clock.move_to(at_a(personas, MONDAY, 11), tick=False)
    for visit in visits:  # completed before surveys are on: no survey planned by the event
        appointment_set_status(appointment=visit, status="completed", actor=Actor.staff(personas.front_a),
                               source="staff")  # fmt: skip
    clock.shift(timedelta(days=1))
    counts = surveys_seed_demo(locations=[personas.location_a, personas.location_b],
                               managers={personas.location_a.name: personas.front_a}, now=timezone.now())  # fmt: skip
    assert counts["surveys_sent"] == 1  # Pat's two visits the same day: asked once
    assert SurveySettings.objects.filter(enabled=True).count() == 2
    assert SurveySettings.objects.get(location=personas.location_a).manager == personas.front_a
    assert SurveyRequest.objects.count() == 1
    assert not Message.objects.exists()
    assert (
        surveys_seed_demo(locations=[personas.location_a], managers={}, now=timezone.now())["surveys_sent"]
        == 0
    )
