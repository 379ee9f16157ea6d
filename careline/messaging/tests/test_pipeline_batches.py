"""Batched sending: many messages per task, one claim per batch, and claims renewed while a batch runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from careline.messaging.channels.base import SendResult
from careline.messaging.channels.simulator.type import SimulatorType
from careline.messaging.models import Message, MessageKind, MessageState
from careline.messaging.outbound import queue
from careline.messaging.outbound.compose import message_send
from careline.messaging.outbound.dispatch import messages_dispatch
from careline.messaging.outbound.queue import DISPATCH_BATCH, message_claim, messages_enqueue_batched
from careline.messaging.outbound.sweep import messages_sweep
from careline.messaging.tasks import dispatch_message, dispatch_messages
from careline.patients.models import ConsentEvent, ConsentKind, ConsentMethod, PatientPhone, PhoneKind

NOON_CHICAGO = datetime(2026, 3, 4, 18, 0, tzinfo=UTC)


pytestmark = [pytest.mark.clock(NOON_CHICAGO), pytest.mark.usefixtures("clock")]


@pytest.fixture
def sent(monkeypatch):
    calls: list[int] = []

    def send(self, channel, message):
        calls.append(message.pk)
        return SendResult(provider_message_id=f"SIM-{message.pk}")

    monkeypatch.setattr(SimulatorType, "send", send)
    return calls


@pytest.fixture
def tasks(monkeypatch):
    queued: list[tuple[str, object]] = []
    monkeypatch.setattr(dispatch_message, "delay", lambda message_id: queued.append(("one", message_id)))
    monkeypatch.setattr(dispatch_messages, "delay", lambda ids: queued.append(("many", list(ids))))
    return queued


def _send(n: int, **kwargs):
    return message_send(
        body=f"Hello {n}", to_address=f"+1555{n:07d}", kind=MessageKind.STAFF, urgent=True, **kwargs
    )


def test_a_single_message_goes_in_a_task_of_its_own(personas, tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = _send(1)
    assert tasks == [("one", message.pk)]


def test_messages_created_in_a_batched_block_go_out_in_batches(
    personas, tasks, django_capture_on_commit_callbacks
):
    with messages_enqueue_batched(), django_capture_on_commit_callbacks(execute=True):
        ids = [_send(n).pk for n in range(DISPATCH_BATCH + 7)]
        assert tasks == []  # nothing leaves before the block ends
    assert tasks == [("many", ids[:DISPATCH_BATCH]), ("many", ids[DISPATCH_BATCH:])]


def test_a_batch_is_claimed_once_and_checked_with_few_queries(personas, sent):
    ids = [_send(n).pk for n in range(20)]
    with CaptureQueriesContext(connection) as queries:
        results = messages_dispatch(ids)
    assert set(results.values()) == {MessageState.SENT}
    assert sent == ids
    # claim (select + update), load, landline + consent facts, then one update per message
    assert (
        len([q for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))])
        <= 20 + 8
    )


def test_a_batch_applies_every_suppression_rule_per_message(personas, sent):
    good, opted_out, landline = _send(1), _send(2), _send(3)
    ConsentEvent.objects.create(
        phone_number=opted_out.to_address,
        kind=ConsentKind.REVOKED,
        method=ConsentMethod.KEYWORD,
        occurred_at=timezone.now(),
    )
    PatientPhone.objects.create(patient=personas.quinn, number=landline.to_address, kind=PhoneKind.LANDLINE)
    automated = message_send(body="Reminder", patient=personas.quinn, kind=MessageKind.AUTOMATED, urgent=True)
    assert automated.state == MessageState.SUPPRESSED  # no consent: never queued
    results = messages_dispatch([good.pk, opted_out.pk, landline.pk])
    assert results == {good.pk: "sent", opted_out.pk: "suppressed", landline.pk: "suppressed"}
    reasons = dict(
        Message.objects.filter(pk__in=[opted_out.pk, landline.pk]).values_list("pk", "suppression_reason")
    )
    assert reasons == {opted_out.pk: "opted_out", landline.pk: "landline"}
    assert sent == [good.pk]


def test_a_batch_skips_messages_claimed_or_sent_elsewhere(personas, sent):
    first, second, third = _send(1), _send(2), _send(3)
    assert message_claim(second.pk)  # another worker has it
    assert messages_dispatch([first.pk, second.pk, third.pk]) == {
        first.pk: "sent",
        second.pk: "not-claimed",
        third.pk: "sent",
    }
    assert messages_dispatch([first.pk, third.pk]) == {first.pk: "not-claimed", third.pk: "not-claimed"}
    assert sent == [first.pk, third.pk]


def test_a_message_taken_back_by_the_sweep_during_a_long_batch_is_not_sent_by_it(
    personas, monkeypatch, clock
):
    first, second = _send(1), _send(2)
    monkeypatch.setattr(queue, "messages_enqueue", lambda ids: None)
    monkeypatch.setattr(queue, "SENDING_TIMEOUT", timedelta(0))  # every message renews its claim
    calls: list[int] = []

    def slow_send(self, channel, message):
        calls.append(message.pk)
        # While the first one is sent the batch is "too slow": a sweep takes the second one back.
        clock.shift(timedelta(seconds=1))
        messages_sweep()
        return SendResult(provider_message_id=f"SIM-{message.pk}")

    monkeypatch.setattr(SimulatorType, "send", slow_send)
    results = messages_dispatch([first.pk, second.pk])
    assert calls == [first.pk]
    assert results == {first.pk: "sent", second.pk: "not-claimed"}
    second.refresh_from_db()
    assert second.state == MessageState.QUEUED  # sent later by the task the sweep queued


def test_a_renewed_claim_keeps_the_message_in_the_batch(personas, sent, monkeypatch):
    first, second = _send(1), _send(2)
    monkeypatch.setattr(queue, "SENDING_TIMEOUT", timedelta(0))
    assert messages_dispatch([first.pk, second.pk]) == {first.pk: "sent", second.pk: "sent"}
    assert sent == [first.pk, second.pk]
