"""Real Celery workers against Redis and PostgreSQL: what CI's second pass proves beyond eager tasks."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from kombu import Producer

from careline.celery import app
from careline.core.actor import Actor
from careline.core.models import AuditAction, AuditEntry
from careline.patients.models import ConsentEvent, Patient, PatientImport
from careline.patients.services.imports import patient_import_start
from careline.patients.tasks import patient_import_run
from careline.testing.db import current_database_url
from careline.testing.workers import celery_workers, worker_environment

CSV = (
    "mrn,first_name,last_name,date_of_birth,location,phone,sms_consent\n"
    "W-1001,Rosa,Delgado,1961-02-03,Northside Clinic,(312) 555-0144,yes\n"
    "W-1002,Tom,Becker,03/04/1990,Northside Clinic,312-555-0145,no\n"
)


@pytest.fixture
def celery_worker_process(tmp_path):
    """A real `celery -A careline worker` on a queue of its own, stopped (SIGTERM, then SIGKILL) at the end."""
    queue = f"test-{uuid.uuid4().hex[:12]}"
    env = worker_environment(
        DATABASE_URL=current_database_url(),
        CELERY_BROKER_URL=os.environ["CARELINE_TEST_BROKER_URL"],
        CARELINE_VAR_DIR=str(settings.VAR_DIR),  # the same media folder: the worker reads the uploaded file
    )
    with celery_workers(
        1, env=env, queue=queue, log_dir=tmp_path, pool="solo", loglevel="info", stop_timeout=30
    ) as (proc,):
        yield queue, proc, tmp_path / "worker-0.log"


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
        upload=SimpleUploadedFile("clinic.csv", CSV.encode(), content_type="text/csv"),
        actor=Actor.staff(personas.front_a),
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
