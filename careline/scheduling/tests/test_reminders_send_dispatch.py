"""The reminder sending task sends its texts itself when their channel keeps many requests in flight
(Twilio's asynchronous client): no dispatch task per 50 through the broker, each text sent once even when
the task is delivered twice. On a channel that sends one at a time the texts go to their tasks as before."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.utils import timezone

from careline.messaging.models import Message, MessageState
from careline.messaging.outbound import queue as queue_module
from careline.messaging.services.channels import simulator_channel
from careline.messaging.testing import fixtures as twilio_fixtures
from careline.messaging.tests.h3_support import add_patient
from careline.scheduling.models import Reminder, ReminderRule, ReminderState
from careline.scheduling.prompts import scheduling_prompts
from careline.scheduling.services.reminders import (
    reminders_claim,
    reminders_plan_bulk,
    reminders_send_and_dispatch,
)
from careline.scheduling.tests.reminders_support import make_appointment, minutes_rule

pytestmark = [pytest.mark.django_db(transaction=True)]

# The loopback Twilio double and the default SMS channel on it (messaging's own tests get them from its conftest).
twilio_double = twilio_fixtures.twilio_double
twilio_channel = twilio_fixtures.twilio_channel

COUNT = 5


@pytest.fixture
def tasks(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[object, ...]]]:
    """The tasks the outbound queue asked for (recorded, not run)."""
    asked: list[tuple[str, tuple[object, ...]]] = []
    monkeypatch.setattr(queue_module, "task_enqueue", lambda name, *args: asked.append((name, args)))
    return asked


@pytest.fixture
def claimed(personas, settings) -> list[int]:
    """COUNT due reminders (patients with a mobile number and consent), claimed by a sweep: one batch."""
    settings.CARELINE_TEXTING_WINDOW = (time(0, 0), time(23, 59))
    ReminderRule.objects.all().delete()
    minutes_rule(60)
    starts = timezone.now().replace(second=0, microsecond=0) + timedelta(hours=3)
    appointments = [
        make_appointment(
            personas,
            starts + timedelta(minutes=index),
            patient=add_patient(personas.location_a, f"MRN-D{index}", f"+1312555020{index}"),
        )
        for index in range(COUNT)
    ]
    reminders_plan_bulk(appointment_ids=[a.pk for a in appointments])
    Reminder.objects.update(due_at=timezone.now() - timedelta(seconds=1))
    [batch] = reminders_claim()
    assert len(batch) == COUNT
    return batch


def test_texts_on_a_channel_sending_many_at_once_go_from_the_task_itself(
    claimed, twilio_channel, twilio_double, tasks
):
    assert reminders_send_and_dispatch(reminder_ids=claimed) == {"sent": COUNT, "withdrawn": 0, "skipped": 0}
    assert not [name for name, _ in tasks if name.startswith("messaging.dispatch")]
    assert Message.objects.filter(state=MessageState.SENT, channel=twilio_channel).count() == COUNT
    assert len(twilio_double.messages) == COUNT
    assert Reminder.objects.filter(state=ReminderState.SENT).count() == COUNT


def test_a_task_delivered_twice_sends_each_text_once(claimed, twilio_channel, twilio_double, tasks):
    reminders_send_and_dispatch(reminder_ids=claimed)
    # A redelivery, even after recovery put the rows back to SENDING: found by their keys, not sent again.
    Reminder.objects.filter(pk__in=claimed).update(state=ReminderState.SENDING)
    reminders_send_and_dispatch(reminder_ids=claimed)
    assert Message.objects.count() == COUNT and len(twilio_double.messages) == COUNT
    assert scheduling_prompts().count() == COUNT


def test_texts_on_a_channel_sending_one_at_a_time_go_to_their_tasks(claimed, tasks):
    channel = simulator_channel()
    assert not channel.type.sends_many_at_once
    reminders_send_and_dispatch(reminder_ids=claimed)
    queued = Message.objects.filter(state=MessageState.QUEUED, channel=channel)
    assert queued.count() == COUNT
    sent_by_tasks = [pk for name, args in tasks if name.startswith("messaging.dispatch") for pk in _ids(args)]
    assert sorted(sent_by_tasks) == sorted(queued.values_list("pk", flat=True))


def _ids(args: tuple[object, ...]) -> list[int]:
    [ids] = args
    return list(ids) if isinstance(ids, list) else [ids]  # type: ignore[list-item]


def test_texts_are_made_claimed_so_nothing_claims_or_reads_them_again(
    claimed, twilio_channel, twilio_double, tasks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        reminders_send_and_dispatch(reminder_ids=claimed)
    message_reads = [
        q["sql"] for q in queries if q["sql"].startswith("SELECT") and 'FROM "messaging_message"' in q["sql"]
    ]
    claims = [
        q["sql"]
        for q in queries
        if q["sql"].startswith('UPDATE "messaging_message"')
        and '"claimed_at" =' in q["sql"].split("WHERE")[0]
    ]
    # Only the look-up of existing keys reads messages; no claim moves them from QUEUED to SENDING.
    assert len(message_reads) == 1 and "idempotency_key" in message_reads[0]
    assert claims == []
    assert set(Message.objects.values_list("state", "attempts")) == {(MessageState.SENT, 1)}


def test_texts_of_a_task_that_stops_before_sending_are_taken_back_by_the_sweep(
    claimed, twilio_channel, twilio_double, tasks, monkeypatch
):
    import time_machine

    from careline.messaging.outbound import sweep as sweep_module
    from careline.scheduling.services import reminders as reminders_module

    monkeypatch.setattr(reminders_module, "messages_dispatch_claimed", lambda messages: {})  # the worker died
    reminders_send_and_dispatch(reminder_ids=claimed)
    stopped = list(Message.objects.values_list("state", "attempts", "enqueued_at"))
    assert stopped == [(MessageState.SENDING, 1, None)] * COUNT  # claimed by the task, no task queued
    assert not tasks and not twilio_double.messages
    assert Reminder.objects.filter(state=ReminderState.SENT).count() == COUNT
    from careline.messaging.outbound.dispatch import messages_dispatch

    with time_machine.travel(timezone.now() + queue_module.SENDING_TIMEOUT + timedelta(seconds=5)):
        # The sweep asks the provider (which has none of them), puts them back in the queue and sends them.
        assert sweep_module.messages_sweep()["recovered"] == COUNT
        ids = sorted(pk for name, args in tasks if name.startswith("messaging.dispatch") for pk in _ids(args))
        assert ids == sorted(Message.objects.values_list("pk", flat=True))
        messages_dispatch(ids)
    assert Message.objects.filter(state=MessageState.SENT).count() == COUNT
    assert len(twilio_double.messages) == COUNT


def test_inside_an_outer_batching_block_the_texts_are_queued_for_it(claimed, twilio_channel, tasks):
    with queue_module.messages_enqueue_batched():
        reminders_send_and_dispatch(reminder_ids=claimed)
        assert not tasks  # the outer block has not ended yet
    assert set(Message.objects.values_list("state", flat=True)) == {MessageState.QUEUED}
    queued = sorted(pk for name, args in tasks if name.startswith("messaging.dispatch") for pk in _ids(args))
    assert queued == sorted(Message.objects.values_list("pk", flat=True))
