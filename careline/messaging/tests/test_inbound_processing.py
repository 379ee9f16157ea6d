"""The inbound split: the webhook stores the row and answers; processing runs once, on commit or from the sweep."""

from __future__ import annotations

import os
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from careline.messaging.channels.base import InboundMessage
from careline.messaging.models import Conversation, Message
from careline.messaging.outbound.sweep import messages_sweep
from careline.messaging.services import inbound as inbound_service
from careline.messaging.services.channels import simulator_channel
from careline.messaging.services.inbound import inbound_process, inbound_store
from careline.messaging.tasks import requeue_inbound
from careline.messaging.testing.fixtures import (
    CHANNEL_NUMBER,
    TOKEN_VARIABLE,
    inbound_params,
    make_twilio_channel,
    signed_post,
)
from careline.patients.models import ConsentEvent, ConsentKind

PAT = "+13125550111"
INBOUND = "/webhooks/twilio/messages"
# A Wednesday at 10:00 in Chicago: Northside Clinic is open, so no after-hours reply mixes in.
OPEN_HOURS = datetime(2026, 3, 4, 10, 0, tzinfo=ZoneInfo("America/Chicago"))


pytestmark = [pytest.mark.clock(OPEN_HOURS), pytest.mark.usefixtures("clock")]


@pytest.fixture
def channel(personas):
    return simulator_channel()


def _stored(channel, body: str, sid: str = "IN-1") -> Message:
    """A row as the webhook leaves it when its process dies before the task is queued."""
    message, created = inbound_store(
        channel=channel,
        inbound=InboundMessage(
            provider_message_id=sid, from_address=PAT, to_address=channel.address, body=body
        ),
        enqueue=False,
    )
    assert created
    return message


def _replies() -> int:
    return Message.objects.filter(direction=Message.Direction.OUTBOUND).count()


def test_a_duplicate_process_task_does_nothing(channel, personas):
    message = _stored(channel, "STOP")
    assert message.processed_at is None
    assert message.patient == personas.pat  # the conversation's patient, known without matching
    assert inbound_process(message.pk) is True
    assert inbound_process(message.pk) is False
    assert _replies() == 1
    assert ConsentEvent.objects.filter(phone_number=PAT, kind=ConsentKind.REVOKED).count() == 1
    assert Conversation.objects.get(contact=PAT).unread_count == 0  # STOP is handled: nothing for people
    message.refresh_from_db()
    assert message.processed_at is not None


@pytest.mark.django_db(transaction=True)
def test_concurrent_process_tasks_act_once(channel):
    message = _stored(channel, "STOP", sid="IN-race")
    barrier = threading.Barrier(4)
    results: list[bool] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(inbound_process(message.pk))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]
    assert _replies() == 1
    assert ConsentEvent.objects.filter(phone_number=PAT, kind=ConsentKind.REVOKED).count() == 1


def test_a_failure_while_processing_rolls_back_the_claim(channel, monkeypatch):
    message = _stored(channel, "STOP")

    def crash(**kwargs):
        raise RuntimeError("worker lost its database")

    monkeypatch.setattr(inbound_service, "_act_on", crash)
    with pytest.raises(RuntimeError):
        inbound_process(message.pk)
    message.refresh_from_db()
    assert message.processed_at is None  # so the sweep's retry does it all
    assert Conversation.objects.get(contact=PAT).unread_count == 0
    monkeypatch.undo()
    assert inbound_process(message.pk) is True
    assert _replies() == 1


def test_inbound_requeue_runs_on_its_own_beat_entry_not_in_the_outbound_sweep(channel, clock):
    from careline.celery import _beat_schedule

    assert "messaging.inbound_requeue" in {entry["task"] for entry in _beat_schedule().values()}
    message = _stored(channel, "STOP")
    clock.shift(timedelta(minutes=2))
    assert "inbound" not in messages_sweep()
    message.refresh_from_db()
    assert message.processed_at is None  # left for its own task
    assert requeue_inbound() == 1


def test_the_requeue_task_processes_inbound_rows_whose_task_was_lost(channel, clock):
    message = _stored(channel, "STOP")
    assert requeue_inbound() == 0  # too recent: its task may still be on the way
    clock.shift(timedelta(minutes=2))
    assert requeue_inbound() == 1  # eager Celery: processed right away
    message.refresh_from_db()
    assert message.processed_at is not None
    assert ConsentEvent.objects.filter(phone_number=PAT, kind=ConsentKind.REVOKED).count() == 1
    assert _replies() == 1
    clock.shift(timedelta(minutes=2))
    assert requeue_inbound() == 0
    assert _replies() == 1


@pytest.fixture
def careline_twilio(personas, twilio_double, monkeypatch):
    monkeypatch.setenv(TOKEN_VARIABLE, twilio_double.auth_token)
    return make_twilio_channel(twilio_double, keyword_replies="careline")


def test_the_webhook_answers_before_processing_and_processing_happens_on_commit(
    careline_twilio, twilio_double, django_capture_on_commit_callbacks
):
    params = inbound_params(careline_twilio, PAT, "STOP")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = signed_post(Client(), INBOUND, params, twilio_double.auth_token)
    assert response.status_code == 200
    message = Message.objects.get(direction=Message.Direction.INBOUND)
    assert message.processed_at is None  # stored, answered, nothing acted on yet
    assert not ConsentEvent.objects.filter(phone_number=PAT, kind=ConsentKind.REVOKED).exists()
    assert _replies() == 0
    assert len(callbacks) == 1
    callbacks[0]()  # the commit: the processing task (eager here) runs
    message.refresh_from_db()
    assert message.processed_at is not None
    assert ConsentEvent.objects.filter(phone_number=PAT, kind=ConsentKind.REVOKED).count() == 1
    assert _replies() == 1
    with django_capture_on_commit_callbacks(execute=True) as again:
        assert signed_post(Client(), INBOUND, params, twilio_double.auth_token).status_code == 200
    assert again == []  # a retry of the webhook queues nothing
    assert _replies() == 1


def test_the_webhook_request_path_reads_no_patients_and_caches_the_channel(
    careline_twilio, twilio_double, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        signed_post(Client(), INBOUND, inbound_params(careline_twilio, PAT, "Hi"), twilio_double.auth_token)
    with django_capture_on_commit_callbacks(execute=False), CaptureQueriesContext(connection) as queries:
        response = signed_post(
            Client(), INBOUND, inbound_params(careline_twilio, PAT, "Again"), twilio_double.auth_token
        )
    assert response.status_code == 200
    statements = [query["sql"] for query in queries.captured_queries]
    tables = " ".join(statements)
    assert "patients_" not in tables and "consent" not in tables
    assert '"messaging_channel"' not in tables.split("INSERT", 1)[0]  # the channel came from the cache
    assert sum(sql.startswith("INSERT") for sql in statements) == 1


def test_a_saved_channel_change_is_seen_by_the_next_webhook(careline_twilio, twilio_double):
    params = inbound_params(careline_twilio, PAT, "Hi")
    assert signed_post(Client(), INBOUND, params, twilio_double.auth_token).status_code == 200
    careline_twilio.address = careline_twilio.config["from_number"] = "+13125550999"
    careline_twilio.save()
    params = inbound_params(careline_twilio, PAT, "Hi again")
    params["To"] = CHANNEL_NUMBER  # the number the channel no longer has
    assert signed_post(Client(), INBOUND, params, twilio_double.auth_token).status_code == 404


def test_with_a_real_broker_webhook_ids_go_out_together_in_one_task(channel, monkeypatch):
    from careline.celery import app
    from careline.messaging import tasks
    from careline.messaging.services import inbound_queue

    sent: list[list[int]] = []
    monkeypatch.setattr(tasks.process_inbound_batch, "delay", sent.append)
    app.conf.task_always_eager = False  # the autouse _eager_celery fixture restores it
    batcher = inbound_queue._Batcher()
    monkeypatch.setattr(inbound_queue, "_batcher", batcher)
    batcher.pid = os.getpid()  # no background thread in this test: it flushes by hand
    inbound_queue.inbound_processing_queue([1])
    inbound_queue.inbound_processing_queue([2, 3])
    assert sent == []  # the request only noted the ids
    assert batcher.flush() == 3
    assert sent == [[1, 2, 3]]
    assert batcher.flush() == 0


def test_a_failing_message_in_a_batch_does_not_stop_the_others(channel, monkeypatch):
    from careline.messaging.tasks import process_inbound_batch

    first = _stored(channel, "Hello", sid="IN-a")
    second = _stored(channel, "STOP", sid="IN-b")
    real = inbound_service._act_on

    def flaky(**kwargs):
        if kwargs["message"].pk == first.pk:
            raise RuntimeError("boom")
        real(**kwargs)

    monkeypatch.setattr(inbound_service, "_act_on", flaky)
    assert process_inbound_batch(message_ids=[first.pk, second.pk]) == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.processed_at is None and second.processed_at is not None  # the sweep retries the first
