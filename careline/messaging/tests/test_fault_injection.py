"""Fault injection on PostgreSQL + Redis with real Celery workers: nothing lost, nothing sent twice.

2,000 queued messages go through two real `celery -A careline worker` processes to the loopback Twilio
double, which answers 5% of posts with 500 and holds 2% past the client's timeout (after accepting them:
the ambiguous case). One worker is killed with SIGKILL mid-run. The test drives the sweep itself (no beat),
with the sweep's recovery timeouts shortened. Every message must reach the double, exactly once except
where an attempt timed out, and end SENT.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction
from kombu import Producer

from careline.celery import app
from careline.messaging.models import Message, MessageKind, MessageState
from careline.messaging.outbound import queue as outbound_queue
from careline.messaging.outbound.compose import message_send
from careline.messaging.outbound.queue import DISPATCH_BATCH, messages_enqueue_batched
from careline.messaging.outbound.sweep import messages_sweep
from careline.messaging.tasks import dispatch_message, dispatch_messages
from careline.messaging.testing.fixtures import TOKEN_VARIABLE, make_twilio_channel
from careline.messaging.testing.twilio_double import Fault, TwilioDouble
from careline.testing.db import current_database_url
from careline.testing.workers import Worker, celery_workers, worker_environment, worker_logs

pytestmark = [pytest.mark.postgres, pytest.mark.broker, pytest.mark.django_db(transaction=True)]

COUNT = int(os.environ.get("CARELINE_FAULT_MESSAGES", "2000"))
ERROR_RATE, TIMEOUT_RATE = 0.05, 0.02
CLIENT_TIMEOUT = 2.0  # seconds; a held answer waits longer than this
SENDING_TIMEOUT = 10  # seconds, for the workers and this test's sweep alike
DEADLINE = float(os.environ.get("CARELINE_FAULT_DEADLINE", "100"))


class FaultPlan:
    """The double's hook: 5% of posts get a 500, 2% are accepted and then held past the client's timeout."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.errors: Counter[str] = Counter()
        self.timeouts: Counter[str] = Counter()

    def __call__(self, form: dict[str, str]) -> Fault | None:
        with self.lock:
            draw = self.random.random()
            if draw < ERROR_RATE:
                self.errors[form["Body"]] += 1
                return Fault(status=500)
            if draw < ERROR_RATE + TIMEOUT_RATE:
                self.timeouts[form["Body"]] += 1
                return Fault.timeout(CLIENT_TIMEOUT + 1.5, accepted=True)
        return None


def _serve_double(pipe: Connection, seed: int) -> None:
    """The double in a process of its own (answering thousands of requests would starve this one's GIL)."""
    plan = FaultPlan(seed)
    double = TwilioDouble().start()
    double.add_hook(plan)
    pipe.send((double.url, double.account_sid, double.auth_token))
    pipe.recv()  # "report"
    pipe.send(
        {
            "received": Counter(message["body"] for message in double.messages),
            "sids": {message["sid"] for message in double.messages},
            "errors": plan.errors,
            "timeouts": plan.timeouts,
        }
    )
    pipe.recv()  # "stop"
    double.stop()


@dataclass
class RemoteDouble:
    url: str
    account_sid: str
    auth_token: str
    pipe: Connection

    def report(self) -> dict[str, Any]:
        self.pipe.send("report")
        result: dict[str, Any] = self.pipe.recv()
        return result


@pytest.fixture
def double() -> Iterator[RemoteDouble]:
    parent, child = multiprocessing.get_context("fork").Pipe()
    process = multiprocessing.get_context("fork").Process(
        target=_serve_double, args=(child, 20260303), daemon=True
    )
    process.start()
    assert parent.poll(10), "the Twilio double did not start"
    url, account_sid, auth_token = parent.recv()
    try:
        yield RemoteDouble(url, account_sid, auth_token, parent)
    finally:
        process.kill()
        process.join(5)


@pytest.fixture
def workers(tmp_path: Path, double: TwilioDouble) -> Iterator[tuple[str, list[Worker], list[Path]]]:
    """Two real workers (4 threads each) on a queue of their own; stopped, or killed, at the end."""
    queue = f"fault-{uuid.uuid4().hex[:10]}"
    env = worker_environment(
        DATABASE_URL=current_database_url(),
        CELERY_BROKER_URL=os.environ["CARELINE_TEST_BROKER_URL"],
        CARELINE_VAR_DIR=str(settings.VAR_DIR),
        CARELINE_RETRY_BACKOFF_MS="200",  # retries after 0.1-0.2 s, 0.2-0.4 s ... instead of 5-10 s
        CARELINE_SENDING_TIMEOUT_SECONDS=str(SENDING_TIMEOUT),  # batches renew their claims within this
        **{TOKEN_VARIABLE: double.auth_token},
    )
    with celery_workers(2, env=env, queue=queue, log_dir=tmp_path) as procs:
        yield queue, procs, [tmp_path / f"worker-{index}.log" for index in range(2)]


def _body(index: int) -> str:
    return f"Fault-injection message {index:05d}"


def test_no_message_is_lost_or_sent_twice_under_faults_and_a_killed_worker(double, workers, monkeypatch):
    queue, procs, logs = workers
    monkeypatch.setenv(TOKEN_VARIABLE, double.auth_token)
    channel = make_twilio_channel(double, timeout_seconds=CLIENT_TIMEOUT)
    # The sweep runs here, in the test: recover rows stuck SENDING after 10 s (a live attempt takes at most
    # the 2 s client timeout plus one listing) and re-enqueue tasks unclaimed for 15 s (lost with the worker).
    monkeypatch.setattr(outbound_queue, "SENDING_TIMEOUT", timedelta(seconds=SENDING_TIMEOUT))
    monkeypatch.setattr(outbound_queue, "LOST_TASK_AFTER", timedelta(seconds=15))

    broker_connection = app.connection_for_write(os.environ["CARELINE_TEST_BROKER_URL"])
    producer = Producer(broker_connection)
    published: Counter[int] = Counter()

    def enqueue(ids: Any) -> None:
        # What queue.messages_enqueue does, published to the workers' queue on Redis.
        ids = list(ids)
        published.update(ids)
        if len(ids) == 1:
            dispatch_message.apply_async((ids[0],), queue=queue, producer=producer)
            return
        for start in range(0, len(ids), DISPATCH_BATCH):
            dispatch_messages.apply_async(
                (ids[start : start + DISPATCH_BATCH],), queue=queue, producer=producer
            )

    monkeypatch.setattr(outbound_queue, "messages_enqueue", enqueue)
    started = time.monotonic()
    try:
        ids: list[int] = []
        # Made like an announcement: transactions of 100 rows, send tasks in batches.
        with messages_enqueue_batched():
            for chunk in range(0, COUNT, 100):
                with transaction.atomic():
                    ids.extend(
                        message_send(
                            body=_body(index),
                            to_address=f"+1555{index:07d}",
                            channel=channel,
                            kind=MessageKind.STAFF,
                            urgent=True,
                        ).pk
                        for index in range(chunk, min(COUNT, chunk + 100))
                    )
        created = time.monotonic() - started
        started = time.monotonic()  # the deadline bounds delivery; creating rows is not what is tested
        killed = False
        done = 0
        while time.monotonic() - started < DEADLINE:
            if (
                not killed
                and Message.objects.filter(pk__in=ids, state=MessageState.SENT).count() >= COUNT * 0.3
            ):
                procs[0].send_signal(signal.SIGKILL)  # mid-run, with tasks in flight and reserved
                procs[0].wait(timeout=10)
                killed = True
            messages_sweep()
            done = Message.objects.filter(
                pk__in=ids, state__in=[MessageState.SENT, MessageState.DELIVERED]
            ).count()
            if done == COUNT and killed:
                break
            assert procs[1].poll() is None, f"the surviving worker died:\n{worker_logs(logs)}"
            time.sleep(0.25)  # polling the rows: DEADLINE, not this pause, bounds the test
    finally:
        broker_connection.release()

    elapsed = created + time.monotonic() - started
    states = Counter(Message.objects.filter(pk__in=ids).values_list("state", flat=True))
    assert killed, f"no worker was killed: {dict(states)}\n{worker_logs(logs)}"
    assert done == COUNT, f"after {elapsed:.0f} s: {dict(states)}\n{worker_logs(logs)}"

    report = double.report()
    received: Counter[str] = report["received"]
    expected = {_body(index) for index in range(COUNT)}
    assert set(received) == expected  # every message reached the provider; nothing else did
    duplicates = {body: n for body, n in received.items() if n > 1}
    # The documented ambiguous case: a duplicate is possible only where an attempt timed out after the
    # provider accepted it and `find_sent` could not tell; never where the provider gave a definite answer.
    assert set(duplicates) <= set(report["timeouts"]), duplicates
    assert report["errors"] and report["timeouts"]  # the faults really happened
    rows = Message.objects.filter(pk__in=ids)
    assert rows.filter(provider_message_id__isnull=True).count() == 0
    assert len(set(rows.values_list("provider_message_id", flat=True))) == COUNT
    assert set(rows.values_list("provider_message_id", flat=True)) <= report["sids"]
    retried = rows.filter(attempts__gt=1).count()
    print(
        f"\nfault injection: {COUNT} messages in {elapsed:.1f} s (created in {created:.1f} s); 500s {sum(report['errors'].values())}, "
        f"timeouts {sum(report['timeouts'].values())}, retried rows {retried}, duplicates {len(duplicates)}, "
        f"re-published tasks {sum(n - 1 for n in published.values())}"
    )
