"""Real Celery workers against Redis and PostgreSQL: what CI's second pass proves beyond eager tasks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from kombu import Producer

from careline.celery import app
from careline.core.models import AuditAction, AuditEntry
from careline.demo.tests.conftest import wait_for_other_db_sessions_to_end
from careline.patients.models import ConsentEvent, Patient, PatientImport
from careline.patients.services.imports import patient_import_start
from careline.patients.tasks import patient_import_run

CSV = (
    "mrn,first_name,last_name,date_of_birth,location,phone,sms_consent\n"
    "W-1001,Rosa,Delgado,1961-02-03,Northside Clinic,(312) 555-0144,yes\n"
    "W-1002,Tom,Becker,03/04/1990,Northside Clinic,312-555-0145,no\n"
)


def _test_database_url() -> str:
    """The URL of the database pytest-django is using right now (test_<name>), for the worker process."""
    conf = connection.settings_dict
    user = quote(conf.get("USER") or "")
    password = f":{quote(conf['PASSWORD'])}" if conf.get("PASSWORD") else ""
    credentials = f"{user}{password}@" if user else ""
    return (
        f"postgres://{credentials}{conf.get('HOST') or '127.0.0.1'}:{conf.get('PORT') or 5432}/{conf['NAME']}"
    )


@pytest.fixture
def celery_worker_process(tmp_path):
    """A real `celery -A careline worker` on a queue of its own, stopped (SIGTERM, then SIGKILL) at the end."""
    queue = f"test-{uuid.uuid4().hex[:12]}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("CELERY_")}
    env.update(
        DATABASE_URL=_test_database_url(),
        CELERY_BROKER_URL=os.environ["CARELINE_TEST_BROKER_URL"],
        CARELINE_VAR_DIR=str(settings.VAR_DIR),  # the same media folder: the worker reads the uploaded file
    )
    log_path = tmp_path / "worker.log"
    log = log_path.open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "careline",
            "worker",
            "-l",
            "info",
            "-P",
            "solo",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"{queue}@%h",
        ],
        env=env,
        cwd=Path(settings.BASE_DIR),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield queue, proc, log_path
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()
        wait_for_other_db_sessions_to_end()


def _wait_until_finished(import_id: int, proc: subprocess.Popen[bytes], log_path: Path) -> PatientImport:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        row = PatientImport.objects.get(pk=import_id)
        if row.finished:
            return row
        assert proc.poll() is None, f"the worker died:\n{log_path.read_text()[-3000:]}"
        time.sleep(0.1)  # polling the row: the deadline above, not this pause, bounds the test
    pytest.fail(
        f"import {import_id} still {row.state} after 90 s; worker log:\n{log_path.read_text()[-3000:]}"
    )


@pytest.mark.broker
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_imports_an_uploaded_csv(personas, celery_worker_process, monkeypatch):
    queue, proc, log_path = celery_worker_process
    queued: list[int] = []
    # patient_import_start enqueues on commit; route that one message to the worker's queue on Redis.
    monkeypatch.setattr(patient_import_run, "delay", lambda import_id: queued.append(import_id))
    upload = patient_import_start(
        upload=SimpleUploadedFile("clinic.csv", CSV.encode(), content_type="text/csv"), user=personas.front_a
    )
    assert queued == [upload.pk]
    with app.connection_for_write(os.environ["CARELINE_TEST_BROKER_URL"]) as broker:
        patient_import_run.apply_async((upload.pk,), queue=queue, producer=Producer(broker))

    finished = _wait_until_finished(upload.pk, proc, log_path)

    assert finished.state == PatientImport.State.DONE, finished.errors
    assert finished.created_count == 2
    rosa = Patient.objects.get(mrn="W-1001")
    assert (rosa.legal_last_name, rosa.primary_location) == ("Delgado", personas.location_a)
    assert list(rosa.phones.values_list("number", flat=True)) == ["+13125550144"]
    assert ConsentEvent.objects.filter(phone_number="+13125550145", kind="revoked").exists()
    assert AuditEntry.objects.filter(action=AuditAction.IMPORT, patient_id=rosa.pk).exists()


@pytest.mark.broker
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_repeated_delivery_of_the_same_import_is_harmless(personas, celery_worker_process):
    queue, proc, log_path = celery_worker_process
    upload = PatientImport.objects.create(
        file=SimpleUploadedFile("twice.csv", CSV.encode()),
        original_name="twice.csv",
        created_by=personas.front_a,
    )
    with app.connection_for_write(os.environ["CARELINE_TEST_BROKER_URL"]) as broker:
        for _ in range(2):  # a redelivery after a visibility timeout looks exactly like this
            patient_import_run.apply_async((upload.pk,), queue=queue, producer=Producer(broker))
    finished = _wait_until_finished(upload.pk, proc, log_path)
    assert finished.state == PatientImport.State.DONE, finished.errors
    # Both deliveries must have run (the second finding the row claimed) before counting what was created.
    deadline = time.monotonic() + 60
    while log_path.read_text().count("succeeded in") < 2:
        assert time.monotonic() < deadline, f"second delivery never ran:\n{log_path.read_text()[-3000:]}"
        time.sleep(0.1)
    assert Patient.objects.filter(mrn__in=["W-1001", "W-1002"]).count() == 2
    assert (
        AuditEntry.objects.filter(action=AuditAction.IMPORT, object_type="patients.patientimport").count()
        == 1
    )


@pytest.mark.broker
@pytest.mark.django_db
def test_healthz_reports_the_redis_broker(client, settings):
    settings.CELERY_BROKER_URL = os.environ["CARELINE_TEST_BROKER_URL"]
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"]["broker"] == {"status": "ok", "transport": "redis"}


@pytest.mark.broker
@pytest.mark.django_db
def test_healthz_fails_when_the_redis_broker_is_unreachable(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"  # the discard port: nothing listens there
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["status"] == "error"
