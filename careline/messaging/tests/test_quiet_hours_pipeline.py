"""Quiet hours: automated texts wait for the patient's local window (08:00-20:00), across DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from careline.messaging.channels.base import InboundMessage
from careline.messaging.models import Message, MessageKind, MessageState, MessagingPolicy
from careline.messaging.outbound import queue
from careline.messaging.outbound.compose import message_send
from careline.messaging.outbound.policy import window_release_at
from careline.messaging.outbound.sweep import messages_sweep
from careline.messaging.services.channels import simulator_channel
from careline.messaging.services.inbound import inbound_receive

CHICAGO = ZoneInfo("America/Chicago")


def _at(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CHICAGO)


@pytest.fixture
def enqueued(monkeypatch):
    ids: list[int] = []
    monkeypatch.setattr(queue, "messages_enqueue", lambda batch: ids.extend(batch))
    return ids


def test_an_automated_text_at_night_waits_for_8_am_and_the_sweep_releases_it(
    time_machine, personas, enqueued
):
    time_machine.move_to(_at(2026, 3, 4, 21, 30), tick=False)  # Wednesday 21:30 in Chicago
    message = message_send(body="Reminder", patient=personas.pat, kind=MessageKind.AUTOMATED)
    assert (message.state, message.held_for_quiet_hours) == (MessageState.QUEUED, True)
    assert message.due_at == _at(2026, 3, 5, 8, 0)
    assert enqueued == []

    time_machine.move_to(_at(2026, 3, 5, 7, 59), tick=False)
    assert messages_sweep()["enqueued"] == 0
    time_machine.move_to(_at(2026, 3, 5, 8, 0), tick=False)
    assert messages_sweep()["enqueued"] == 1 and enqueued == [message.pk]
    message.refresh_from_db()
    assert message.held_for_quiet_hours is False


def test_early_morning_waits_for_the_same_day(time_machine, personas):
    time_machine.move_to(_at(2026, 3, 4, 6, 15), tick=False)
    message = message_send(body="Reminder", patient=personas.pat, kind=MessageKind.AUTOMATED)
    assert message.due_at == _at(2026, 3, 4, 8, 0)


def test_inside_the_window_nothing_is_held(time_machine, personas, enqueued):
    time_machine.move_to(_at(2026, 3, 4, 19, 59), tick=False)
    message = message_send(body="Reminder", patient=personas.pat, kind=MessageKind.AUTOMATED)
    assert (message.held_for_quiet_hours, message.due_at) == (False, None)


def test_the_patients_own_zone_decides(time_machine, personas):
    personas.pat.time_zone = "America/Los_Angeles"
    personas.pat.save()
    time_machine.move_to(_at(2026, 3, 4, 9, 0), tick=False)  # 07:00 in Los Angeles
    message = message_send(body="Reminder", patient=personas.pat, kind=MessageKind.AUTOMATED)
    assert message.due_at == datetime(2026, 3, 4, 8, 0, tzinfo=ZoneInfo("America/Los_Angeles"))


def test_spring_forward_night_releases_at_8_local_daylight_time(time_machine, personas):
    time_machine.move_to(_at(2026, 3, 7, 22, 0), tick=False)  # the night clocks go forward
    message = message_send(body="Reminder", patient=personas.pat, kind=MessageKind.AUTOMATED)
    assert message.due_at == datetime(2026, 3, 8, 13, 0, tzinfo=UTC)  # 08:00 CDT (UTC-5)


def test_fall_back_night_releases_at_8_local_standard_time(time_machine, personas):
    time_machine.move_to(_at(2026, 10, 31, 23, 0), tick=False)
    message = message_send(body="Reminder", patient=personas.pat, kind=MessageKind.AUTOMATED)
    assert message.due_at == datetime(2026, 11, 1, 14, 0, tzinfo=UTC)  # 08:00 CST (UTC-6)


def test_a_window_opening_inside_the_skipped_hour_resolves_to_a_real_instant():
    release = window_release_at(_at(2026, 3, 8, 1, 0), CHICAGO, (time(2, 30), time(20, 0)))
    assert release is not None
    assert release.astimezone(CHICAGO).replace(tzinfo=None) >= datetime(2026, 3, 8, 2, 30)
    assert release == release.astimezone(CHICAGO).astimezone(UTC)  # a real, round-tripping instant


def test_a_location_policy_changes_the_window(time_machine, personas):
    MessagingPolicy.objects.create(
        location=personas.location_a, window_start=time(9, 0), window_end=time(17, 0)
    )
    time_machine.move_to(_at(2026, 3, 4, 8, 30), tick=False)
    message = message_send(body="Reminder", patient=personas.pat, kind=MessageKind.AUTOMATED)
    assert message.due_at == _at(2026, 3, 4, 9, 0)


def test_urgent_messages_are_not_held(time_machine, personas):
    time_machine.move_to(_at(2026, 3, 4, 23, 0), tick=False)
    message = message_send(
        body="Clinic closed today", patient=personas.pat, kind=MessageKind.AUTOMATED, urgent=True
    )
    assert (message.held_for_quiet_hours, message.due_at, message.enqueued_at is not None) == (
        False,
        None,
        True,
    )


def test_staff_reply_in_an_active_conversation_is_not_held(time_machine, personas):
    time_machine.move_to(_at(2026, 3, 4, 22, 0), tick=False)
    channel = simulator_channel()
    inbound_receive(
        channel=channel,
        inbound=InboundMessage(
            provider_message_id="IN-1",
            from_address="+13125550111",
            to_address=channel.address,
            body="Are you open?",
        ),
    )
    time_machine.shift(timedelta(minutes=10))
    reply = message_send(body="We open at 8.", patient=personas.pat, channel=channel, kind=MessageKind.STAFF)
    assert (reply.held_for_quiet_hours, reply.due_at) == (False, None)


def test_staff_message_out_of_the_blue_at_night_is_held(time_machine, personas):
    time_machine.move_to(_at(2026, 3, 4, 22, 0), tick=False)
    message = message_send(body="Please call us.", patient=personas.pat, kind=MessageKind.STAFF)
    assert message.held_for_quiet_hours is True


def test_a_scheduled_message_inside_quiet_hours_moves_to_the_window(time_machine, personas, enqueued):
    time_machine.move_to(_at(2026, 3, 4, 12, 0), tick=False)
    message = message_send(
        body="See you", patient=personas.pat, kind=MessageKind.STAFF, send_at=_at(2026, 3, 4, 22, 0)
    )
    assert (message.scheduled, message.held_for_quiet_hours, message.due_at) == (
        True,
        True,
        _at(2026, 3, 5, 8, 0),
    )
    time_machine.move_to(_at(2026, 3, 4, 22, 1), tick=False)
    assert messages_sweep()["enqueued"] == 0
    assert Message.objects.get(pk=message.pk).state == MessageState.QUEUED
