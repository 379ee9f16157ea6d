"""Two worker "hosts" against one PostgreSQL database, one Redis broker and one S3-compatible object store.

Each host is a real `celery -A careline worker` process with its own CARELINE_VAR_DIR (its own disk: nothing
under var/ is shared), consuming the same queue. The test process plays the web host and beat. Every task is
published twice (a redelivery after Redis' visibility timeout looks exactly like that), so both hosts race
for the same rows. The guarantees hold across hosts: each due reminder becomes one text, each inbound text is
processed once (one HELP answer each), and files cross hosts through the object store: an import file the
web host uploaded is read by a worker, and media a worker copied from the provider are read by the web host.
"""

from __future__ import annotations

import os
import time as time_module
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import time, timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from kombu import Producer

from careline.celery import app
from careline.core.actor import Actor
from careline.messaging.channels.base import InboundMessage
from careline.messaging.models import KeywordReplies, Message, MessageKind, MessageState, MessagingPolicy
from careline.messaging.outbound import queue as outbound_queue
from careline.messaging.outbound.queue import DISPATCH_BATCH
from careline.messaging.outbound.sweep import messages_sweep
from careline.messaging.services import attachments
from careline.messaging.services.inbound import inbound_store
from careline.messaging.tasks import dispatch_messages, process_inbound_batch
from careline.messaging.testing.fixtures import TOKEN_VARIABLE, make_twilio_channel
from careline.messaging.testing.twilio_double import TwilioDouble
from careline.patients.models import Patient, PatientImport
from careline.patients.services.imports import patient_import_start
from careline.patients.tasks import patient_import_run
from careline.scheduling.models import Reminder, ReminderRule, ReminderState
from careline.scheduling.services.reminders import reminders_sweep
from careline.scheduling.tasks import send_reminders
from careline.scheduling.tests.reminders_support import minutes_rule
from careline.scheduling.tests.test_reminders_visibility_timeout import _make_visits
from careline.testing.db import current_database_url
from careline.testing.objectstore import moto_s3, s3_environment, s3_storages
from careline.testing.workers import Worker, start_celery_workers, stop_celery_workers, worker_logs

# Two worker processes start and stop on a machine CI shares: more than the default 300 s budget, which also
# covers the database flush after the test.
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.broker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(600),
]

REMINDERS = 40
INBOUND = 12
DEADLINE = 120.0
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
HOSTS = ("host-a", "host-b")


@pytest.fixture
def double() -> Iterator[TwilioDouble]:
    double = TwilioDouble().start()
    try:
        yield double
    finally:
        double.stop()


@pytest.fixture
def object_store(settings, tmp_path):
    """One moto S3 server for every host; this process (the web host) uses it too, its media folder unused."""
    with moto_s3() as config:
        settings.STORAGES = s3_storages(config, settings.STORAGES)
        settings.MEDIA_ROOT = str(tmp_path / "web-media")
        yield config


@pytest.fixture
def hosts(tmp_path: Path, double: TwilioDouble, object_store) -> Iterator[tuple[str, list[Worker], Path]]:
    """Two worker hosts (one process of 2 threads each), each with its own var folder, on one queue."""
    from django.db import connection

    from careline.testing.db import wait_for_other_db_sessions_to_end

    queue = f"hosts-{uuid.uuid4().hex[:10]}"
    procs: list[Worker] = []
    try:
        for host in HOSTS:
            var_dir = tmp_path / host / "var"
            var_dir.mkdir(parents=True)
            env = {
                key: value
                for key, value in os.environ.items()
                if not key.startswith(("CELERY_", "CARELINE_S3"))
            }
            env.update(
                DATABASE_URL=current_database_url(),
                CELERY_BROKER_URL=os.environ["CARELINE_TEST_BROKER_URL"],
                CELERY_TASK_DEFAULT_QUEUE=queue,
                CARELINE_VAR_DIR=str(var_dir),
                CARELINE_MULTI_HOST="true",
                CARELINE_TEXTING_WINDOW="00:00-23:59",
                **s3_environment(object_store),
                **{TOKEN_VARIABLE: double.auth_token},
            )
            procs += start_celery_workers(
                1, env=env, queue=queue, log_dir=tmp_path, concurrency=2, loglevel="info", log_prefix=host
            )
        yield queue, procs, tmp_path
    finally:
        stop_celery_workers(procs)
        wait_for_other_db_sessions_to_end(timeout=30)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid, application_name, state, left(query, 80) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            lingering = cursor.fetchall()
        # A session left behind would hold the test database's flush (TRUNCATE) until the timeout.
        assert not lingering, lingering
    for host in HOSTS:
        # Nothing the hosts handled was kept on their own disks.
        assert not list((tmp_path / host / "var").glob("media/**/*.*")), host


def _logs(log_dir: Path) -> str:
    return worker_logs([log_dir / f"{host}-0.log" for host in HOSTS], chars=2500)


def _wait(condition, procs: list[Worker], log_dir: Path, what: str, *, drive=None) -> float:
    started = time_module.monotonic()
    while time_module.monotonic() - started < DEADLINE:
        if drive is not None:
            drive()
        if condition():
            return time_module.monotonic() - started
        assert all(proc.poll() is None for proc in procs), f"a worker host died:\n{_logs(log_dir)}"
        time_module.sleep(0.5)  # polling rows like beat; DEADLINE, not this pause, bounds the test
    pytest.fail(f"{what} not done after {DEADLINE:.0f} s\n{_logs(log_dir)}")


def test_two_worker_hosts_keep_the_guarantees(personas, double, hosts, object_store, monkeypatch, settings):
    queue, procs, log_dir = hosts
    settings.CARELINE_TEXTING_WINDOW = (time(0, 0), time(23, 59))
    monkeypatch.setenv(TOKEN_VARIABLE, double.auth_token)
    ReminderRule.objects.all().delete()
    channel = make_twilio_channel(double, keyword_replies=KeywordReplies.CARELINE)
    MessagingPolicy.objects.create(
        location=personas.location_a, window_start=time(0, 0), window_end=time(23, 59)
    )
    minutes_rule(24 * 60)
    numbers = _make_visits(personas, REMINDERS)

    broker = app.connection_for_write(os.environ["CARELINE_TEST_BROKER_URL"])
    producer = Producer(broker)

    def twice(task, *args) -> None:  # every task delivered twice: both hosts race for the same rows
        for _ in range(2):
            task.apply_async(args, queue=queue, producer=producer)

    def enqueue(ids) -> None:
        ids = list(ids)
        for start in range(0, len(ids), DISPATCH_BATCH):
            twice(dispatch_messages, ids[start : start + DISPATCH_BATCH])

    monkeypatch.setattr(send_reminders, "delay", lambda ids: twice(send_reminders, ids))
    monkeypatch.setattr(outbound_queue, "messages_enqueue", enqueue)
    try:
        # 1. Reminders: every one due now; beat's sweep (this process) hands each batch out twice.
        Reminder.objects.update(due_at=timezone.now() - timedelta(seconds=1))

        def sweep() -> None:
            reminders_sweep()
            messages_sweep()

        sent = Message.objects.filter(kind=MessageKind.AUTOMATED, state=MessageState.SENT)
        _wait(lambda: sent.count() == REMINDERS, procs, log_dir, "reminders", drive=sweep)

        # 2. Inbound: HELP texts stored by the web host (some with a picture), each processed by a worker
        # host that copies the picture into the object store.
        inbound_ids = []
        for index in range(INBOUND):
            media = (
                [{"url": double.add_media(PNG, "image/png"), "content_type": "image/png"}]
                if index % 3 == 0
                else []
            )
            message, _ = inbound_store(
                channel=channel,
                inbound=InboundMessage(
                    provider_message_id=f"SM{uuid.uuid4().hex}",
                    from_address=f"+1773555{index:04d}",
                    to_address=channel.address,
                    body="HELP",
                    media=media,
                ),
                enqueue=False,
            )
            inbound_ids.append(message.pk)
        for start in range(0, INBOUND, 4):
            twice(process_inbound_batch, inbound_ids[start : start + 4])
        inbound = Message.objects.filter(pk__in=inbound_ids)
        with_media = inbound.exclude(media=[])
        _wait(
            lambda: (
                not inbound.filter(processed_at__isnull=True).exists()
                and not with_media.filter(media_due_at__isnull=False).exists()
                and Message.objects.filter(kind=MessageKind.KEYWORD_REPLY, state=MessageState.SENT).count()
                == INBOUND
            ),
            procs,
            log_dir,
            "inbound",
            drive=messages_sweep,
        )

        # 3. An import file uploaded by the web host, read by whichever worker host takes it.
        monkeypatch.setattr("careline.patients.services.imports.task_enqueue", lambda *args: None)
        csv = (
            "mrn,first_name,last_name,date_of_birth,location,phone,sms_consent\n"
            f"HOSTS-1,Rosa,Delgado,1961-02-03,{personas.location_a.name},(312) 555-0144,yes\n"
        )
        upload = patient_import_start(
            upload=SimpleUploadedFile("clinic.csv", csv.encode(), content_type="text/csv"),
            actor=Actor.staff(personas.front_a),
        )
        twice(patient_import_run, upload.pk)
        _wait(lambda: PatientImport.objects.get(pk=upload.pk).finished, procs, log_dir, "import")
    finally:
        broker.release()

    # Each due reminder sent exactly once, whatever host took it, though every task came twice.
    received = Counter(message["to"] for message in double.messages)
    assert Reminder.objects.filter(state=ReminderState.SENT).count() == REMINDERS
    assert all(received[number] == 1 for number in numbers), [n for n in numbers if received[n] != 1][:5]
    # Each inbound text processed once: one HELP answer per sender, one text each at the provider.
    replies = Message.objects.filter(kind=MessageKind.KEYWORD_REPLY)
    assert sorted(replies.values_list("to_address", flat=True)) == sorted(
        f"+1773555{i:04d}" for i in range(INBOUND)
    )
    assert all(received[f"+1773555{i:04d}"] == 1 for i in range(INBOUND))
    # Files across hosts: the media a worker host copied are read here (the web host) from the bucket.
    copied = [item for message in with_media for item in message.media]
    assert len(copied) == len(range(0, INBOUND, 3)) and all(item.get("file") for item in copied), copied
    assert all(attachments.media_read(f"{attachments.FOLDER}/{item['file']}") == PNG for item in copied)
    # ... and the import file the web host uploaded was read by a worker host (then removed).
    finished = PatientImport.objects.get(pk=upload.pk)
    assert finished.state == PatientImport.State.DONE, finished.errors
    assert Patient.objects.filter(mrn="HOSTS-1").count() == 1
    # Both hosts did part of the work.
    logs = {host: (log_dir / f"{host}-0.log").read_text() for host in HOSTS}
    assert all("succeeded in" in text for text in logs.values()), _logs(log_dir)
