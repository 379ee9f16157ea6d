"""Provider send rates: per sender number and per Messaging Service, held across workers; a 429 waits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from careline.messaging.models import Message, MessageKind, MessageState
from careline.messaging.outbound.compose import message_send
from careline.messaging.outbound.dispatch import message_dispatch, messages_dispatch
from careline.messaging.outbound.sweep import messages_sweep
from careline.messaging.testing.fixtures import TOKEN_VARIABLE, make_twilio_channel
from careline.messaging.testing.twilio_double import Fault

NOON_CHICAGO = datetime(2026, 3, 4, 18, 0, tzinfo=UTC)  # inside the texting window
PAT = "+13125550111"
NUMBER_A = "+15555550171"
NUMBER_B = "+15555550172"
SERVICE = "MG" + "7" * 32


def max_in_one_second(times: list[float]) -> int:
    """The most of TIMES falling in any half-open 1-s window."""
    times = sorted(times)
    best = start = 0
    for end, moment in enumerate(times):
        while times[start] <= moment - 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def _staff_texts(channel, count, *, offset=0):
    return [
        message_send(
            body=f"Your visit is tomorrow ({index}).",
            to_address=f"+1312556{index + offset:04d}",
            channel=channel,
            kind=MessageKind.STAFF,
            urgent=True,
        ).pk
        for index in range(count)
    ]


@pytest.mark.clock(NOON_CHICAGO)
def test_a_429_requeues_without_counting_and_is_sent_later_exactly_once(
    personas, twilio_channel, twilio_double, clock
):
    twilio_double.fail_next(Fault.twilio_error(20429))
    message = message_send(body="Your visit is confirmed.", patient=personas.pat, channel=twilio_channel)
    assert message_dispatch(message.pk) == MessageState.QUEUED
    message.refresh_from_db()
    assert (message.state, message.attempts, message.error_code) == (MessageState.QUEUED, 0, "20429")
    assert timezone.now() + timedelta(seconds=1) <= message.due_at <= timezone.now() + timedelta(seconds=2)
    assert messages_sweep()["enqueued"] == 0  # not due yet
    clock.move_to(message.due_at + timedelta(seconds=1), tick=False)
    assert messages_sweep()["enqueued"] == 1  # eager Celery: dispatched right away
    message.refresh_from_db()
    assert (message.state, message.attempts) == (MessageState.SENT, 1)
    assert [r.status for r in twilio_double.iter_posts()] == [429, 201]
    assert len(twilio_double.sent_to(PAT)) == 1


@pytest.mark.clock(NOON_CHICAGO)
def test_429s_on_every_attempt_never_fail_the_message(
    personas, twilio_channel, twilio_double, clock, settings
):
    settings.CARELINE_SEND_MAX_ATTEMPTS = 2
    message = message_send(body="Your visit is confirmed.", patient=personas.pat, channel=twilio_channel)
    for _ in range(4):
        twilio_double.fail_next(Fault(status=429))
        message_dispatch(message.pk)
        message.refresh_from_db()
        assert (message.state, message.attempts) == (MessageState.QUEUED, 0)
        clock.move_to(message.due_at + timedelta(seconds=1), tick=False)
    assert message_dispatch(message.pk) == MessageState.SENT


def test_channels_sharing_a_sender_share_its_limit(personas, twilio_double, monkeypatch, settings):
    settings.TWILIO_NUMBER_RATE_PER_SECOND = 4
    settings.TWILIO_SERVICE_RATE_PER_SECOND = 6
    monkeypatch.setenv(TOKEN_VARIABLE, twilio_double.auth_token)
    first = make_twilio_channel(twilio_double, number=NUMBER_A)
    second = make_twilio_channel(twilio_double, number=NUMBER_A, default=False)
    other = make_twilio_channel(twilio_double, number=NUMBER_B, default=False)
    service = make_twilio_channel(
        twilio_double, number=NUMBER_B, messaging_service_sid=SERVICE, default=False
    )

    def keys(channel):
        return [(limit.key, limit.per_second) for limit in channel.type.rate_limits(channel, None)]

    assert keys(first) == keys(second) == [(f"twilio:{twilio_double.account_sid}:number:{NUMBER_A}", 4)]
    assert keys(other) != keys(first)
    assert keys(service) == [(f"twilio:{twilio_double.account_sid}:service:{SERVICE}", 6)]
    settings.TWILIO_NUMBER_RATE_PER_SECOND = settings.TWILIO_SERVICE_RATE_PER_SECOND = 0
    assert keys(first) == keys(service) == []


@pytest.mark.clock(NOON_CHICAGO)
def test_per_number_and_service_limits_both_hold_and_lose_nothing(
    personas, twilio_double, monkeypatch, settings, clock
):
    settings.TWILIO_NUMBER_RATE_PER_SECOND = 4
    settings.TWILIO_SERVICE_RATE_PER_SECOND = 6
    twilio_double.set_rate_limit(NUMBER_A, 4)
    twilio_double.set_rate_limit(SERVICE, 6)
    monkeypatch.setenv(TOKEN_VARIABLE, twilio_double.auth_token)
    by_number = make_twilio_channel(twilio_double, number=NUMBER_A)
    by_service = make_twilio_channel(
        twilio_double, number=NUMBER_B, messaging_service_sid=SERVICE, default=False
    )
    numbered = _staff_texts(by_number, 9)
    serviced = _staff_texts(by_service, 9, offset=100)

    # The clock stands still: a batch takes the slots within a second and puts the rest back for later.
    sent = list(messages_dispatch(numbered).values()).count(MessageState.SENT)
    assert 1 <= sent <= 4
    sent = list(messages_dispatch(serviced).values()).count(MessageState.SENT)
    assert 1 <= sent <= 6
    waiting = Message.objects.filter(state=MessageState.QUEUED)
    assert set(waiting.values_list("attempts", flat=True)) == {0}
    for _ in range(30):
        if not waiting.exists():
            break
        clock.move_to(timezone.now() + timedelta(seconds=2), tick=False)
        messages_sweep()  # eager Celery: dispatched right away
    assert Message.objects.filter(pk__in=numbered + serviced, state=MessageState.SENT).count() == 18

    posts = list(twilio_double.iter_posts())
    assert [post.status for post in posts if post.status != 201] == []
    assert len(posts) == len(twilio_double.messages) == 18
    assert max_in_one_second([p.arrived for p in posts if p.get("From") == NUMBER_A]) <= 4
    assert max_in_one_second([p.arrived for p in posts if p.get("MessagingServiceSid") == SERVICE]) <= 6


# Two worker processes sharing the Redis limiter, each sending its own messages through the Twilio type's
# asynchronous path as fast as their slots allow; the double counts what arrives from the one sender.
WORKER = """
import json, os, sys
import django
django.setup()
from careline.messaging.channels.base import SendJob
from careline.messaging.models import Channel, Message
from careline.messaging.outbound.ratelimit import rate_slots_take
spec = json.loads(sys.argv[1])
channel = Channel(pk=spec["channel"], type_code="twilio", address=spec["number"], source="environment",
                  config={"account_sid": spec["account"], "auth_token_env": spec["token_variable"],
                          "from_number": spec["number"], "api_base_url": spec["url"]})
pending = [Message(pk=spec["first"] + i, to_address="+1312557%04d" % (spec["first"] + i), body="Hi")
           for i in range(spec["count"])]
channel.type.send_prepare(channel)
sent = 0
while pending:
    batch, pending = pending[:20], pending[20:]
    slots = rate_slots_take(channel.type.rate_limits(channel, batch[0]), len(batch), max_wait=1.0)
    jobs = [SendJob(message, at) for message, at in zip(batch, slots.deadlines)]
    results = channel.type.send_many(channel, jobs) if jobs else []
    failed = [job.message for job, result in zip(jobs, results) if not hasattr(result, "provider_message_id")]
    sent += len(jobs) - len(failed)
    pending = batch[len(jobs):] + failed + pending
print(json.dumps({"sent": sent}))
"""


@pytest.mark.broker
def test_two_worker_processes_never_exceed_a_senders_limit_together(twilio_double, monkeypatch):
    limit = 8
    twilio_double.set_rate_limit(NUMBER_A, limit)
    redis_url = os.environ["CARELINE_TEST_BROKER_URL"]
    import redis

    redis.Redis.from_url(redis_url).delete(
        f"careline:rate:twilio:{twilio_double.account_sid}:number:{NUMBER_A}"
    )
    env = {
        **os.environ,
        "CARELINE_RATE_LIMIT_REDIS_URL": redis_url,
        "TWILIO_NUMBER_RATE_PER_SECOND": str(limit),
        "CARELINE_ENV": "development",
        TOKEN_VARIABLE: twilio_double.auth_token,
    }
    spec = {
        "channel": 1,
        "number": NUMBER_A,
        "account": twilio_double.account_sid,
        "token_variable": TOKEN_VARIABLE,
        "url": twilio_double.url,
        "count": 20,
    }
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, json.dumps({**spec, "first": first})],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for first in (1000, 2000)
    ]
    outputs = [json.loads(worker.communicate(timeout=120)[0]) for worker in workers]
    assert [output["sent"] for output in outputs] == [20, 20]
    posts = list(twilio_double.iter_posts())
    assert [post.status for post in posts] == [201] * 40  # no 429: the limit was never reached
    assert len({post.get("To") for post in posts}) == 40  # each message once
    assert max_in_one_second([post.arrived for post in posts]) <= limit
