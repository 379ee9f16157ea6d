"""A backlog of due reminders is claimed as the workers get through it: never more than the sweep's limit
claimed and unsent at once, so no claim waits long enough to be recovered and claimed twice."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from careline.scheduling.models import Reminder, ReminderState
from careline.scheduling.services.reminders import (
    reminders_claim,
    reminders_plan_for_appointment,
    reminders_send,
)
from careline.scheduling.tests.reminders_support import _no_default_rules, days_rule, make_appointment

NOW = datetime(2025, 2, 3, 16, 0, tzinfo=UTC)
VISIT = datetime(2025, 2, 6, 14, 30, tzinfo=UTC)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures(_no_default_rules.__name__),
    pytest.mark.clock(NOW),
]


def test_claims_in_flight_count_against_the_limit(personas, clock):
    days_rule(1, time(18, 0))
    for index in range(5):
        reminders_plan_for_appointment(make_appointment(personas, VISIT + timedelta(minutes=30 * index)))
    clock.move_to(datetime(2025, 2, 6, 0, 1, tzinfo=UTC), tick=False)
    [first] = reminders_claim(limit=3)
    assert len(first) == 3
    assert reminders_claim(limit=3) == []  # three claimed and not sent yet: nothing more
    reminders_send(reminder_ids=first)
    [second] = reminders_claim(limit=3)
    assert len(second) == 2 and not set(first) & set(second)
    assert Reminder.objects.filter(state=ReminderState.SENDING).count() == 2
