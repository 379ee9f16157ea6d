"""A broker that lost its queued tasks (Redis restarted without its data) is noticed by the sweeps at once.

Without this, reminders, replies and inbound texts queued at the time wait for their lost-task timeouts
(minutes). The fake broker below stands for the mark's two states; one test reads and writes the real mark
in Redis.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, time, timedelta

import pytest

from careline.core import broker_loss
from careline.messaging.channels.base import InboundMessage
from careline.messaging.models import Message, MessageState
from careline.messaging.outbound import queue as outbound_queue
from careline.messaging.outbound.compose import message_send
from careline.messaging.outbound.sweep import messages_sweep
from careline.messaging.services.channels import simulator_channel
from careline.messaging.services.inbound import inbound_requeue, inbound_store
from careline.scheduling.models import Reminder, ReminderState
from careline.scheduling.services.reminders import (
    reminders_claim,
    reminders_plan_for_appointment,
    reminders_sweep,
)
from careline.scheduling.tests.reminders_support import _no_default_rules, days_rule, make_appointment

NOW = datetime(2025, 2, 3, 16, 0, tzinfo=UTC)  # Mon 10:00 in Chicago: inside every quiet-hours window
VISIT = datetime(2025, 2, 6, 14, 30, tzinfo=UTC)
PAT = "+13125550111"

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.clock(NOW),
    pytest.mark.usefixtures("clock", _no_default_rules.__name__),
]


class FakeBroker:
    """The sweeps' marks as Redis would keep them: written once, gone when the broker loses its data."""

    def __init__(self, now: datetime) -> None:
        self.marks = dict.fromkeys(("messages", "reminders", "inbound"), now - timedelta(days=1))

    def lose_data(self) -> None:
        self.marks.clear()

    def mark(self, watcher: str, now: datetime) -> tuple[datetime, bool]:
        if watcher not in self.marks:
            self.marks[watcher] = now
            return now, True
        return self.marks[watcher], False


@pytest.fixture
def broker(monkeypatch) -> FakeBroker:
    fake = FakeBroker(NOW)
    monkeypatch.setattr(broker_loss, "broker_mark", fake.mark)
    return fake


@pytest.fixture
def lost_tasks(monkeypatch) -> list[tuple]:
    """Send tasks go nowhere (as if queued in a broker that then lost them); the list records them."""
    sent: list[tuple] = []
    monkeypatch.setattr(outbound_queue, "task_enqueue", lambda *args: sent.append(args))
    return sent


def test_a_message_whose_task_the_broker_lost_is_queued_again_by_the_next_sweep(
    personas, broker, lost_tasks, clock, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = message_send(
            patient=personas.pat, body="Your visit is on Thursday.", purpose="appointments"
        )
    assert message.state == MessageState.QUEUED and len(lost_tasks) == 1
    clock.shift(timedelta(seconds=5))
    assert messages_sweep()["enqueued"] == 0  # the broker kept its data: the task may still be on the way

    broker.lose_data()
    assert messages_sweep()["enqueued"] == 1  # long before CARELINE_LOST_TASK_SECONDS
    assert lost_tasks[-1] == ("messaging.dispatch_message", message.pk)
    clock.shift(timedelta(seconds=5))
    assert messages_sweep()["enqueued"] == 0  # queued again after the loss: not again


def test_a_reminder_claim_whose_task_the_broker_lost_is_sent_by_the_next_sweep(personas, broker, clock):
    days_rule(1, time(18, 0))
    [reminder] = reminders_plan_for_appointment(make_appointment(personas, VISIT))
    clock.move_to(reminder.due_at + timedelta(seconds=1), tick=False)
    reminders_claim()  # claimed; its send task is then lost with the broker's data
    clock.shift(timedelta(seconds=5))
    assert reminders_sweep()["claimed"] == 0

    broker.lose_data()
    assert reminders_sweep()["claimed"] == 1  # not after CARELINE_SENDING_TIMEOUT_SECONDS
    reminder.refresh_from_db()
    assert reminder.state == ReminderState.SENT
    assert Reminder.objects.get(pk=reminder.pk).message is not None


def _stored(channel, sid: str) -> Message:
    message, created = inbound_store(
        channel=channel,
        inbound=InboundMessage(
            provider_message_id=sid, from_address=PAT, to_address=channel.address, body="Hi"
        ),
        enqueue=False,
    )
    assert created
    return message


def test_inbound_texts_the_broker_lost_are_queued_again_once_not_on_every_sweep(
    personas, broker, clock, monkeypatch
):
    from careline.messaging.services import inbound_queue

    queued: list[list[int]] = []
    monkeypatch.setattr(inbound_queue, "inbound_processing_send", lambda ids: queued.append(list(ids)))
    channel = simulator_channel()
    first, second = _stored(channel, "IN-1"), _stored(channel, "IN-2")
    clock.shift(timedelta(seconds=5))
    assert inbound_requeue(now=datetime.now(UTC)) == 0

    broker.lose_data()
    assert inbound_requeue(now=datetime.now(UTC)) == 2
    assert queued == [[first.pk, second.pk]]
    clock.shift(timedelta(seconds=5))
    # Inbound rows carry no "queued at": later sweeps wait for the usual timeout rather than queue them again.
    assert inbound_requeue(now=datetime.now(UTC)) == 0


def test_the_cutoff_is_the_timeout_unless_the_broker_lost_its_data_later(monkeypatch):
    now = NOW
    monkeypatch.setattr(broker_loss, "broker_mark", lambda watcher, at: None)
    assert broker_loss.tasks_lost_before(now, after=120, watcher="messages") == now - timedelta(seconds=120)

    lost_at = now - timedelta(seconds=30)
    monkeypatch.setattr(broker_loss, "broker_mark", lambda watcher, at: (lost_at, False))
    assert broker_loss.tasks_lost_before(now, after=120, watcher="messages") == lost_at
    assert broker_loss.tasks_lost_before(
        now, after=120, watcher="inbound", just_lost=True
    ) == now - timedelta(seconds=120)
    assert broker_loss.tasks_lost_before(now, after=10, watcher="messages") == now - timedelta(seconds=10)

    ahead = now + timedelta(minutes=5)  # written by a host whose clock runs ahead: not trusted
    monkeypatch.setattr(broker_loss, "broker_mark", lambda watcher, at: (ahead, False))
    assert broker_loss.tasks_lost_before(now, after=120, watcher="messages") == now - timedelta(seconds=120)


def test_brokers_that_keep_their_data_are_not_watched(settings):
    settings.CELERY_BROKER_URL = "filesystem://"
    assert broker_loss.broker_mark("messages", NOW) is None
    settings.CELERY_BROKER_URL = "amqp://guest@127.0.0.1:5672//"
    assert broker_loss.broker_mark("messages", NOW) is None


def test_an_unreachable_redis_leaves_the_timeouts_in_charge(settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    assert broker_loss.broker_mark("messages", NOW) is None
    assert broker_loss.tasks_lost_before(NOW, after=120, watcher="messages") == NOW - timedelta(seconds=120)


@pytest.mark.broker
def test_the_mark_in_redis_is_written_once_and_found_missing_after_a_loss(settings):
    import redis

    url = os.environ["CARELINE_TEST_BROKER_URL"]
    settings.CELERY_BROKER_URL = url
    client = redis.Redis.from_url(url)
    key = broker_loss.mark_key("test")
    client.delete(key)

    assert broker_loss.broker_mark("test", NOW) == (NOW, True)
    later = NOW + timedelta(minutes=1)
    assert broker_loss.broker_mark("test", later) == (NOW, False)  # every sweep, on any host, reads the same

    client.delete(key)  # what a restart without persistence (or FLUSHALL) does
    assert broker_loss.broker_mark("test", later) == (later, True)
    client.delete(key)
