"""The outbound pipeline's guarantees: idempotency, suppression, exclusive claims, retries, callbacks, sweeps."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.db import connections
from django.utils import timezone

from careline.messaging.channels.base import ProviderError, SendResult
from careline.messaging.channels.simulator.type import SimulatorType
from careline.messaging.models import STATE_RANK, Message, MessageKind, MessageState, RateBucket
from careline.messaging.outbound import queue
from careline.messaging.outbound.compose import MessageRefused, message_send
from careline.messaging.outbound.dispatch import backoff, message_dispatch
from careline.messaging.outbound.queue import message_claim
from careline.messaging.outbound.ratelimit import RATE_HEADROOM, rate_slots_take
from careline.messaging.outbound.status import AMBIGUOUS_MARK, message_mark_sent, message_status_apply
from careline.messaging.outbound.sweep import messages_sweep
from careline.messaging.services.channels import simulator_channel
from careline.patients.models import ConsentEvent, ConsentKind, ConsentMethod, PatientPhone, PhoneKind
from careline.patients.models.registry import PatientStatus

# A Wednesday, 12:00 in Chicago (Pat's zone): inside the texting window.
NOON_CHICAGO = datetime(2026, 3, 4, 18, 0, tzinfo=UTC)


# Frozen at NOON_CHICAGO before any fixture a test asks for runs (the personas' consent is dated then).
pytestmark = [pytest.mark.clock(NOON_CHICAGO), pytest.mark.usefixtures("clock")]


@pytest.fixture
def sends(monkeypatch):
    """Every call of the simulator's send, by message id; tests replace `outcomes` to inject failures."""
    calls: list[int] = []
    outcomes: list[BaseException | None] = []

    def send(self, channel, message):
        calls.append(message.pk)
        outcome = outcomes.pop(0) if outcomes else None
        if outcome is not None:
            raise outcome
        return SendResult(provider_message_id=f"SIM-{message.pk}-{len(calls)}")

    monkeypatch.setattr(SimulatorType, "send", send)
    return calls, outcomes


def _revoke(number: str) -> None:
    ConsentEvent.objects.create(
        phone_number=number,
        kind=ConsentKind.REVOKED,
        method=ConsentMethod.KEYWORD,
        occurred_at=timezone.now(),
    )


# --- idempotency ------------------------------------------------------------------------------------------


def test_the_same_idempotency_key_twice_makes_one_row(personas, clock):
    first = message_send(
        body="Reminder", patient=personas.pat, kind=MessageKind.AUTOMATED, idempotency_key="r48:1"
    )
    second = message_send(
        body="Reminder", patient=personas.pat, kind=MessageKind.AUTOMATED, idempotency_key="r48:1"
    )
    assert first.pk == second.pk
    assert Message.objects.filter(idempotency_key="r48:1").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_threads_with_the_same_key_at_once_make_one_row(personas, clock, sends):
    barrier = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def create() -> None:
        try:
            barrier.wait(timeout=10)
            message = message_send(
                body="Reminder", patient=personas.pat, kind=MessageKind.AUTOMATED, idempotency_key="r48:race"
            )
            results.append(message.pk)
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(results) == 2 and len(set(results)) == 1
    assert Message.objects.filter(idempotency_key="r48:race").count() == 1
    calls, _ = sends
    assert calls == results[:1]  # sent once (tasks run eagerly on commit)


# --- suppression ------------------------------------------------------------------------------------------


def test_automated_message_without_consent_is_suppressed(personas, clock):
    message = message_send(body="Hi", patient=personas.quinn, kind=MessageKind.AUTOMATED)
    assert (message.state, message.suppression_reason) == (MessageState.SUPPRESSED, "no_consent")


def test_staff_message_without_consent_record_goes(personas, clock):
    message = message_send(body="Hi", patient=personas.quinn, kind=MessageKind.STAFF)
    assert message.state == MessageState.QUEUED


def test_opted_out_number_is_suppressed_even_for_staff(personas, clock):
    _revoke("+13125550111")
    message = message_send(body="Hi", patient=personas.pat)
    assert (message.state, message.suppression_reason) == (MessageState.SUPPRESSED, "opted_out")


def test_deceased_patient_is_suppressed(personas, clock):
    personas.pat.status = PatientStatus.DECEASED
    personas.pat.save()
    message = message_send(body="Hi", patient=personas.pat)
    assert message.suppression_reason == "deceased"


def test_confidential_patient_is_suppressed(personas, clock):
    personas.pat.confidential_communications = True
    personas.pat.save()
    message = message_send(body="Hi", patient=personas.pat)
    assert message.suppression_reason == "confidential"


def test_landline_is_suppressed(personas, clock):
    PatientPhone.objects.filter(patient=personas.pat).update(kind=PhoneKind.LANDLINE)
    message = message_send(body="Hi", patient=personas.pat)
    assert message.suppression_reason == "landline"


def test_invalid_number_is_suppressed(personas, clock):
    message = message_send(body="Hi", patient=personas.pat, to_address="3125550111")
    assert message.suppression_reason == "invalid_number"


def test_disabled_channel_is_suppressed(personas, clock):
    channel = simulator_channel()
    channel.is_active = False
    channel.save()
    message = message_send(body="Hi", patient=personas.pat, channel=channel)
    assert message.suppression_reason == "channel_disabled"
    assert message.finished_at is not None


def test_empty_and_too_long_messages_are_refused_and_store_nothing(personas, clock, settings):
    with pytest.raises(MessageRefused):
        message_send(body="   ", patient=personas.pat)
    with pytest.raises(MessageRefused):
        message_send(body="x" * (settings.CARELINE_MAX_MESSAGE_LENGTH + 1), patient=personas.pat)
    assert not Message.objects.exists()


def test_consent_is_checked_again_at_dispatch(personas, clock, sends):
    message = message_send(body="Reminder", patient=personas.pat, kind=MessageKind.AUTOMATED)
    assert message.state == MessageState.QUEUED
    _revoke("+13125550111")  # the patient texts STOP while the message waits in the queue
    assert message_dispatch(message.pk) == MessageState.SUPPRESSED
    message.refresh_from_db()
    assert (message.state, message.suppression_reason) == (MessageState.SUPPRESSED, "opted_out")
    assert sends[0] == []


# --- claiming and sending ---------------------------------------------------------------------------------


def test_a_claim_is_exclusive(personas, clock, sends):
    message = message_send(body="Hi", patient=personas.pat)
    assert message_claim(message.pk) is True
    assert message_claim(message.pk) is False


def test_two_dispatches_of_one_message_send_once(personas, clock, sends):
    message = message_send(body="Hi", patient=personas.pat)
    assert message_dispatch(message.pk) == MessageState.SENT
    assert message_dispatch(message.pk) == "not-claimed"
    assert sends[0] == [message.pk]
    message.refresh_from_db()
    assert (message.state, message.attempts, message.provider_message_id) == (
        "sent",
        1,
        f"SIM-{message.pk}-1",
    )


def test_a_temporary_error_is_retried_after_a_jittered_backoff_by_the_sweep(
    personas, clock, sends, monkeypatch
):
    calls, outcomes = sends
    enqueued: list[int] = []
    monkeypatch.setattr(queue, "messages_enqueue", lambda ids: enqueued.extend(ids))
    outcomes.extend([ProviderError("503 from provider", permanent=False, code="503")] * 2)
    message = message_send(body="Hi", patient=personas.pat)

    assert message_dispatch(message.pk) == MessageState.QUEUED
    message.refresh_from_db()
    first_wait = (message.due_at - timezone.now()).total_seconds()
    assert 5 <= first_wait <= 10  # base 10 s, jitter in the upper half
    assert (message.error_code, message.attempts) == ("503", 1)
    assert message_dispatch(message.pk) == "not-claimed"  # not due yet: a stray task does nothing
    assert messages_sweep()["enqueued"] == 0

    clock.shift(timedelta(seconds=10))
    assert messages_sweep()["enqueued"] == 1 and enqueued == [message.pk]
    assert message_dispatch(message.pk) == MessageState.QUEUED
    message.refresh_from_db()
    second_wait = (message.due_at - timezone.now()).total_seconds()
    assert 10 <= second_wait <= 20  # doubled

    clock.shift(timedelta(seconds=20))
    messages_sweep()
    assert message_dispatch(message.pk) == MessageState.SENT
    message.refresh_from_db()
    assert (message.state, message.attempts, message.error_code) == ("sent", 3, "")
    assert calls == [message.pk] * 3


def test_backoff_has_jitter_and_a_cap(settings):
    waits = {backoff(1).total_seconds() for _ in range(20)}
    assert len(waits) > 1 and all(5 <= w <= 10 for w in waits)
    assert backoff(30).total_seconds() <= 1800


def test_a_permanent_error_fails_at_once(personas, clock, sends):
    sends[1].append(ProviderError("invalid number", permanent=True, code="21211"))
    message = message_send(body="Hi", patient=personas.pat)
    assert message_dispatch(message.pk) == MessageState.FAILED
    message.refresh_from_db()
    assert (message.state, message.error_code, message.attempts, message.due_at) == (
        "failed",
        "21211",
        1,
        None,
    )
    assert message.finished_at is not None


def test_an_unsubscribed_recipient_error_records_an_opt_out(personas, clock, sends):
    sends[1].append(ProviderError("unsubscribed", permanent=True, code="21610", opted_out=True))
    message = message_send(body="Hi", patient=personas.pat)
    message_dispatch(message.pk)
    latest = ConsentEvent.objects.filter(phone_number="+13125550111").order_by("-occurred_at", "-id").first()
    assert (latest.kind, latest.method) == (ConsentKind.REVOKED, ConsentMethod.PROVIDER)


def test_a_landline_error_marks_the_number_as_a_landline(personas, clock, sends):
    sends[1].append(ProviderError("landline", permanent=True, code="30006", landline=True))
    message = message_send(body="Hi", patient=personas.pat)
    message_dispatch(message.pk)
    assert PatientPhone.objects.get(number="+13125550111").kind == PhoneKind.LANDLINE
    assert message_send(body="Again", patient=personas.pat).suppression_reason == "landline"


def test_out_of_attempts_the_message_fails_and_says_why(personas, clock, sends, settings):
    settings.CARELINE_SEND_MAX_ATTEMPTS = 3
    sends[1].extend([ProviderError("timeout", permanent=False, code="timeout")] * 5)
    message = message_send(body="Hi", patient=personas.pat)
    for _ in range(3):
        message_dispatch(message.pk)
        clock.shift(timedelta(hours=1))
    message.refresh_from_db()
    assert (message.state, message.attempts) == (MessageState.FAILED, 3)
    assert message.error_message.startswith("gave up after 3 attempts")
    assert Message.objects.filter(state=MessageState.FAILED, direction="out").count() == 1
    assert messages_sweep()["enqueued"] == 0  # a failed message is not retried


def test_an_ambiguous_timeout_is_resolved_by_asking_the_provider(personas, clock, sends, monkeypatch):
    sends[1].append(ProviderError("read timeout", permanent=False, code="timeout", ambiguous=True))
    monkeypatch.setattr(
        SimulatorType, "find_sent", lambda self, channel, message, since: "SIM-found", raising=False
    )
    message = message_send(body="Hi", patient=personas.pat)
    assert message_dispatch(message.pk) == MessageState.SENT
    message.refresh_from_db()
    assert (message.state, message.provider_message_id) == ("sent", "SIM-found")


# --- delivery-status callbacks ----------------------------------------------------------------------------

EVENTS = ("worker-records-sent", "sent", "delivered")


@pytest.mark.parametrize("order", list(itertools.permutations(EVENTS)))
@pytest.mark.parametrize("final", ["delivered", "undelivered"])
def test_status_reports_in_any_order_never_move_backwards(personas, clock, sends, order, final):
    message = message_send(body="Hi", patient=personas.pat)
    assert message_claim(message.pk)
    channel = message.channel
    seen = [STATE_RANK[MessageState.SENDING]]
    for event in order:
        if event == "worker-records-sent":
            message_mark_sent(message, "PROV-1")
        else:
            state = final if event == "delivered" else event
            message_status_apply(
                channel=channel, provider_message_id="PROV-1", message_id=message.pk, state=state
            )
        message.refresh_from_db()
        seen.append(STATE_RANK[message.state])
    assert seen == sorted(seen)
    assert message.state == final
    assert message.provider_message_id == "PROV-1"
    assert message.sent_at is not None and message.finished_at is not None


def test_a_terminal_state_never_changes(personas, clock, sends):
    message = message_send(body="Hi", patient=personas.pat)
    message_dispatch(message.pk)
    message.refresh_from_db()
    pid = message.provider_message_id
    assert message_status_apply(channel=message.channel, provider_message_id=pid, state="undelivered")
    for state in ("delivered", "sent", "failed", "queued", "bogus"):
        assert not message_status_apply(channel=message.channel, provider_message_id=pid, state=state)
    message.refresh_from_db()
    assert message.state == "undelivered"


# --- the sweep --------------------------------------------------------------------------------------------


def test_the_sweep_recovers_a_message_whose_worker_died_while_sending(personas, clock, sends, monkeypatch):
    enqueued: list[int] = []
    monkeypatch.setattr(queue, "messages_enqueue", lambda ids: enqueued.extend(ids))
    dead = message_send(body="Lost", patient=personas.pat)
    assert message_claim(dead.pk)  # a worker claimed it, then died before sending
    clock.shift(timedelta(minutes=1))
    live = message_send(body="Busy", patient=personas.pat)
    assert message_claim(live.pk)  # a live worker is sending this one right now
    assert messages_sweep()["recovered"] == 0

    clock.shift(queue.SENDING_TIMEOUT)
    result = messages_sweep()
    assert result["recovered"] == 1 and enqueued == [dead.pk]
    assert message_dispatch(dead.pk) == MessageState.SENT
    dead.refresh_from_db()
    assert (dead.state, dead.attempts) == ("sent", 2)


def test_a_lost_task_is_enqueued_once_across_two_sweeps(personas, clock, monkeypatch):
    enqueued: list[int] = []
    monkeypatch.setattr(queue, "messages_enqueue", lambda ids: enqueued.extend(ids))
    message = message_send(body="Hi", patient=personas.pat)
    Message.objects.filter(pk=message.pk).update(enqueued_at=timezone.now())  # its task went missing
    assert messages_sweep()["enqueued"] == 0  # too early to call it lost
    clock.shift(queue.LOST_TASK_AFTER + timedelta(seconds=1))
    assert messages_sweep()["enqueued"] == 1
    assert messages_sweep()["enqueued"] == 0
    assert enqueued == [message.pk]


@pytest.mark.django_db(transaction=True)
def test_sweeps_running_at_once_enqueue_each_message_once(personas, clock, monkeypatch):
    enqueued: list[int] = []
    lock = threading.Lock()

    def record(ids):
        with lock:
            enqueued.extend(ids)

    monkeypatch.setattr(queue, "messages_enqueue", record)
    ids = [message_send(body=f"Hi {n}", patient=personas.pat).pk for n in range(30)]
    enqueued.clear()
    Message.objects.filter(pk__in=ids).update(enqueued_at=None)
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            barrier.wait(timeout=10)
            messages_sweep()
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(enqueued) == sorted(ids)


# --- the rate limiter -------------------------------------------------------------------------------------


def _channel_slot(channel, max_wait=10.0):
    """One slot of CHANNEL: (taken, its wait, or the wait of the one not taken)."""
    with mock.patch("careline.messaging.outbound.ratelimit.time.monotonic", return_value=0.0):
        slots = rate_slots_take(channel.type.rate_limits(channel, None), 1, max_wait=max_wait)
    if slots.deadlines:
        return True, slots.deadlines[0]  # on a monotonic clock standing at 0: the wait
    return False, slots.refused_wait


def test_rate_slots_are_spaced_across_calls(personas, clock):
    channel = simulator_channel()
    channel.rate_per_second = 4
    channel.save()
    waits = [_channel_slot(channel)[1] for _ in range(4)]
    step = 0.25 / RATE_HEADROOM
    assert waits == pytest.approx([0.0, step, 2 * step, 3 * step])
    clock.shift(timedelta(seconds=2))
    assert _channel_slot(channel)[1] == 0.0
    assert RateBucket.objects.count() == 1


def test_no_rate_limit_means_no_wait_and_no_row(personas, clock):
    assert _channel_slot(simulator_channel())[1] == 0.0
    assert not RateBucket.objects.exists()


def test_a_slot_too_far_away_is_not_taken(personas, clock):
    channel = simulator_channel()
    channel.rate_per_second = 1
    channel.save()
    assert _channel_slot(channel)[0]
    assert _channel_slot(channel, max_wait=0.5) == (False, pytest.approx(1 / RATE_HEADROOM))
    assert _channel_slot(channel, max_wait=2)[1] == pytest.approx(1 / RATE_HEADROOM)  # the refusal took none


def test_a_long_rate_wait_puts_the_message_back_for_later(personas, clock, sends):
    channel = simulator_channel()
    channel.rate_per_second = 0.5  # one every two seconds
    channel.save()
    _channel_slot(channel)  # another worker took the current slot
    message = message_send(body="Hi", patient=personas.pat, channel=channel)
    assert message_dispatch(message.pk) == MessageState.QUEUED
    message.refresh_from_db()
    assert (message.attempts, message.due_at) == (0, timezone.now() + timedelta(seconds=2 / RATE_HEADROOM))
    assert sends[0] == []


def test_after_an_unresolved_timeout_the_retry_asks_the_provider_before_posting(
    personas, sends, monkeypatch, clock
):
    calls, outcomes = sends
    outcomes.append(ProviderError("read timeout", permanent=False, code="timeout", ambiguous=True))
    answers: list[str | None] = [None, "SIM-accepted-earlier"]  # the first check cannot find it yet
    monkeypatch.setattr(
        SimulatorType, "find_sent", lambda self, channel, message, since: answers.pop(0), raising=False
    )
    message = message_send(body="Hi", patient=personas.pat)
    assert message_dispatch(message.pk) == MessageState.QUEUED
    message.refresh_from_db()
    assert message.error_message.startswith(AMBIGUOUS_MARK)
    clock.shift(timedelta(minutes=5))
    assert message_dispatch(message.pk) == MessageState.SENT
    message.refresh_from_db()
    assert (message.provider_message_id, message.error_message) == ("SIM-accepted-earlier", "")
    assert calls == [message.pk]  # posted once: the retry found the first post


def test_a_message_recovered_from_a_dead_worker_asks_the_provider_before_posting_again(
    personas, sends, monkeypatch, clock
):
    calls, _ = sends
    monkeypatch.setattr(queue, "messages_enqueue", lambda ids: None)
    answers: list[str | None] = [None, "SIM-posted-by-the-dead-worker"]
    monkeypatch.setattr(
        SimulatorType, "find_sent", lambda self, channel, message, since: answers.pop(0), raising=False
    )
    message = message_send(body="Hi", patient=personas.pat)
    assert message_claim(message.pk)  # the worker died after posting, before recording it
    clock.shift(queue.SENDING_TIMEOUT + timedelta(seconds=1))
    assert messages_sweep()["recovered"] == 1  # the provider could not tell yet
    assert message_dispatch(message.pk) == MessageState.SENT
    message.refresh_from_db()
    assert message.provider_message_id == "SIM-posted-by-the-dead-worker"
    assert calls == []
