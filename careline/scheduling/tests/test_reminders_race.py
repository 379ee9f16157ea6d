"""Two sweeps racing for the same due reminders on PostgreSQL: each reminder becomes one text."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta

import pytest
from django.db import connections

from careline.messaging.models import Message
from careline.scheduling.models import Reminder, ReminderRule, ReminderState
from careline.scheduling.services.reminders import (
    reminders_claim,
    reminders_plan_for_appointment,
    reminders_send,
)
from careline.scheduling.tests.reminders_support import days_rule, make_appointment

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_sweepers_racing_send_each_reminder_once(personas, time_machine):
    ReminderRule.objects.all().delete()
    time_machine.move_to(datetime(2025, 2, 3, 16, 0, tzinfo=UTC), tick=False)
    days_rule(1, time(18, 0))
    visit = datetime(2025, 2, 6, 15, 0, tzinfo=UTC)
    for i in range(40):
        reminders_plan_for_appointment(make_appointment(personas, visit + timedelta(minutes=10 * i)))
    time_machine.move_to(datetime(2025, 2, 6, 0, 1, tzinfo=UTC), tick=False)
    barrier = threading.Barrier(2)
    claimed: list[list[int]] = []
    errors: list[BaseException] = []

    def sweeper() -> None:
        try:
            barrier.wait()
            for ids in reminders_claim():
                claimed.append(ids)
                reminders_send(reminder_ids=ids)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweeper) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    ids = [pk for batch in claimed for pk in batch]
    assert len(ids) == len(set(ids)) == 40
    assert Reminder.objects.filter(state=ReminderState.SENT).count() == 40
    assert Message.objects.count() == 40
