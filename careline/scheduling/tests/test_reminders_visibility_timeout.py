"""Celery's Redis visibility timeout at 60 s, 1,000 reminders due 25 hours ahead, time moved forward:
each is sent exactly once, by real workers against PostgreSQL + Redis and the loopback Twilio double.

The design under test: reminders are rows with a due time picked up by a sweep, never Celery ETAs (an ETA
25 hours out stays unacknowledged past the visibility timeout and Redis hands it to a second worker).
Before time moves, the sweep finds nothing due and nothing is sent. Time is moved by making the rows due
(their due_at is set to now; the workers are other processes, so time_machine cannot move their clocks).
The test then drives the sweep itself like beat, publishing every claimed batch TWICE (exactly what a
redelivery after the visibility timeout looks like), and keeps sweeping for longer than the visibility
timeout so a redelivery by Redis would show as a second text.
"""

from __future__ import annotations

import os
import time as time_module
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone
from kombu import Producer

from careline.celery import app
from careline.messaging.models import Message, MessageState, MessagingPolicy
from careline.messaging.outbound import queue as outbound_queue
from careline.messaging.outbound.queue import DISPATCH_BATCH
from careline.messaging.outbound.sweep import messages_sweep
from careline.messaging.tasks import dispatch_messages
from careline.messaging.testing.fixtures import TOKEN_VARIABLE, make_twilio_channel
from careline.messaging.testing.twilio_double import TwilioDouble
from careline.patients.models import ConsentEvent, Patient, PatientPhone, PhoneKind
from careline.scheduling.models import Appointment, Reminder, ReminderRule, ReminderState
from careline.scheduling.services.reminders import reminders_plan_bulk, reminders_sweep
from careline.scheduling.tasks import send_reminders
from careline.scheduling.tests.reminders_support import make_type, minutes_rule
from careline.testing.db import current_database_url
from careline.testing.workers import Worker, celery_workers, worker_environment, worker_logs

pytestmark = [pytest.mark.postgres, pytest.mark.broker, pytest.mark.django_db(transaction=True)]

COUNT = int(os.environ.get("CARELINE_VISIBILITY_REMINDERS", "1000"))
VISIBILITY_TIMEOUT = 60
WATCH_SECONDS = VISIBILITY_TIMEOUT + 5  # after the first batch goes out: past the visibility timeout
DEADLINE = 110.0


@pytest.fixture
def double() -> Iterator[TwilioDouble]:
    double = TwilioDouble().start()
    try:
        yield double
    finally:
        double.stop()


@pytest.fixture
def workers(tmp_path: Path, double: TwilioDouble) -> Iterator[tuple[str, list[Worker], Path]]:
    """Two real workers (4 threads each) on a queue of their own, which their own tasks also go to."""
    queue = f"visibility-{uuid.uuid4().hex[:10]}"
    env = worker_environment(
        DATABASE_URL=current_database_url(),
        CELERY_BROKER_URL=os.environ["CARELINE_TEST_BROKER_URL"],
        CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT),
        CELERY_TASK_DEFAULT_QUEUE=queue,  # message dispatch tasks made by the workers stay on this queue
        CARELINE_TEXTING_WINDOW="00:00-23:59",
        CARELINE_VAR_DIR=str(settings.VAR_DIR),
        **{TOKEN_VARIABLE: double.auth_token},
    )
    with celery_workers(2, env=env, queue=queue, log_dir=tmp_path) as procs:
        yield queue, procs, tmp_path


def _logs(log_dir: Path) -> str:
    return worker_logs(sorted(log_dir.glob("worker-*.log")), chars=2000)


def _make_visits(personas: Any, count: int) -> list[str]:
    """COUNT patients (mobile, consent given) with a visit 49 hours ahead; their numbers."""
    location = personas.location_a
    now = timezone.now()
    patients = Patient.objects.bulk_create(
        Patient(
            mrn=f"VIS-{i}",
            legal_first_name=f"P{i}",
            legal_last_name="Visibility",
            date_of_birth=date(1980, 1, 1),
            primary_location=location,
        )
        for i in range(count)
    )
    numbers = [f"+1312555{i:04d}" for i in range(count)]
    PatientPhone.objects.bulk_create(
        PatientPhone(patient=p, number=n, kind=PhoneKind.MOBILE, is_primary=True)
        for p, n in zip(patients, numbers, strict=True)
    )
    ConsentEvent.objects.bulk_create(
        ConsentEvent(
            phone_number=n, kind="given", method="form", patient=p, occurred_at=now - timedelta(days=1)
        )
        for p, n in zip(patients, numbers, strict=True)
    )
    kind = make_type()
    starts = now + timedelta(hours=49)
    appointments = Appointment.objects.bulk_create(
        Appointment(
            patient=p,
            clinician=personas.clinician_a,
            location=location,
            appointment_type=kind,
            starts_at=starts + timedelta(minutes=i),
            ends_at=starts + timedelta(minutes=i + 30),
        )
        for i, p in enumerate(patients)
    )
    reminders_plan_bulk(appointment_ids=[a.pk for a in appointments])
    return numbers


def test_reminders_due_a_day_ahead_are_sent_once_with_a_60_second_visibility_timeout(
    personas, double, workers, monkeypatch, settings
):
    queue, procs, log_dir = workers
    settings.CARELINE_TEXTING_WINDOW = (time(0, 0), time(23, 59))
    monkeypatch.setenv(TOKEN_VARIABLE, double.auth_token)
    ReminderRule.objects.all().delete()
    make_twilio_channel(double)
    MessagingPolicy.objects.create(
        location=personas.location_a, window_start=time(0, 0), window_end=time(23, 59)
    )
    minutes_rule(24 * 60)
    numbers = _make_visits(personas, COUNT)
    pending = Reminder.objects.filter(state=ReminderState.PENDING)
    assert pending.count() == COUNT
    assert not pending.filter(due_at__lte=timezone.now() + timedelta(hours=24)).exists()

    broker = app.connection_for_write(os.environ["CARELINE_TEST_BROKER_URL"])
    producer = Producer(broker)
    published: Counter[int] = Counter()

    def publish_batch(ids: list[int]) -> None:
        # What beat's sweep does, on the workers' queue; every batch twice: a redelivery of the same task.
        for _ in range(2):
            send_reminders.apply_async((ids,), queue=queue, producer=producer)
        published.update(ids)

    def enqueue(ids: Any) -> None:  # messages_sweep's re-enqueues (none are expected) go to the workers too
        ids = list(ids)
        for start in range(0, len(ids), DISPATCH_BATCH):
            dispatch_messages.apply_async(
                (ids[start : start + DISPATCH_BATCH],), queue=queue, producer=producer
            )

    monkeypatch.setattr(send_reminders, "delay", publish_batch)
    monkeypatch.setattr(outbound_queue, "messages_enqueue", enqueue)
    try:
        # 25 hours early nothing is due: the sweep claims nothing and nothing reaches the double.
        assert reminders_sweep()["claimed"] == 0
        # Time moves forward 25 hours: every reminder is due.
        Reminder.objects.update(due_at=timezone.now() - timedelta(seconds=1))
        started = time_module.monotonic()
        sent = 0
        while time_module.monotonic() - started < DEADLINE:
            reminders_sweep()
            messages_sweep()
            sent = Message.objects.filter(state=MessageState.SENT).count()
            if sent == COUNT and time_module.monotonic() - started > WATCH_SECONDS:
                break
            assert all(proc.poll() is None for proc in procs), f"a worker died:\n{_logs(log_dir)}"
            time_module.sleep(1)  # polling like beat; DEADLINE, not this pause, bounds the test
    finally:
        broker.release()
    elapsed = time_module.monotonic() - started
    received = Counter(message["to"] for message in double.messages)
    assert sent == COUNT, f"{sent} of {COUNT} sent after {elapsed:.0f} s\n{_logs(log_dir)}"
    assert elapsed > WATCH_SECONDS  # watched past the visibility timeout
    assert set(published) == set(Reminder.objects.values_list("pk", flat=True))
    assert set(received) == set(numbers)
    assert max(received.values()) == 1, [n for n, k in received.items() if k > 1][:5]
    assert Reminder.objects.filter(state=ReminderState.SENT).count() == COUNT
    assert Message.objects.count() == COUNT
