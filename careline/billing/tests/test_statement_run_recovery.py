"""Statement runs recover: a lost task or workers that all stopped are taken over by the beat sweep, the run
resumes with nobody given two statements or two texts, a live run is left alone, and a run interrupted too
often fails with a reason that names no patient."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import TestCase

from careline.billing.models import RUN_MAX_ATTEMPTS, Statement, StatementRunState
from careline.billing.services import statement_runs
from careline.billing.services.statement_runs import statement_run_chunk, statement_runs_recover
from careline.billing.tests.run_support import (
    one_statement_and_one_text_each,
    owing_patients,
    waiting_run,
    work,
    worker_dies_at,
)
from careline.messaging.models import Message

NOW = datetime(2030, 3, 12, 17, 0, tzinfo=UTC)
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.clock(NOW),
    pytest.mark.usefixtures("clock", "texting_all_day"),
]


@pytest.fixture
def texting_all_day(settings) -> None:
    from datetime import time

    settings.CARELINE_TEXTING_WINDOW = (time(0, 0), time.max)


@pytest.fixture
def resumed(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The tasks the sweep queues (run id, attempt), instead of a broker."""
    queued: list[tuple[int, int]] = []
    monkeypatch.setattr(
        statement_runs, "_workers_enqueue", lambda run_id, attempt: queued.append((run_id, attempt))
    )
    return queued


def test_a_lost_task_is_picked_up_by_the_sweep_and_completes(personas, clock, resumed):
    patients = owing_patients(personas, 5)
    run = waiting_run(personas)  # committed, but its tasks never ran
    assert statement_runs_recover() == {"resumed": 0, "failed": 0}  # not yet: they may be on their way
    clock.shift(timedelta(minutes=3))
    assert statement_runs_recover() == {"resumed": 1, "failed": 0}
    assert resumed == [(run.pk, 2)]
    run.refresh_from_db()
    assert run.state == StatementRunState.RUNNING and run.attempts == 2
    assert statement_run_chunk(run_id=run.pk, attempt=1) == 0  # the lost task arriving late stops
    run = work(run, attempt=2)
    assert run.state == StatementRunState.DONE and run.issued == 5
    one_statement_and_one_text_each(patients)


def test_a_worker_dying_mid_run_is_resumed_and_each_patient_gets_one_statement_and_text(
    personas, clock, resumed, monkeypatch
):
    patients = owing_patients(personas, 5)
    run = waiting_run(personas)  # chunks of two
    with worker_dies_at(2, monkeypatch):  # inside the second chunk, after its texts were written
        work(run)
    run.refresh_from_db()
    assert run.state == StatementRunState.RUNNING and run.heartbeat_at == NOW
    # The first chunk stands; the second rolled back whole (its statements and texts are gone).
    statement_texts = Message.objects.filter(direction="out", subject_key__startswith="statement:")
    assert Statement.objects.count() == statement_texts.count() == 2
    clock.shift(timedelta(minutes=4))
    assert statement_runs_recover() == {"resumed": 0, "failed": 0}  # a slow chunk is not a dead one
    clock.shift(timedelta(minutes=2))
    assert statement_runs_recover() == {"resumed": 1, "failed": 0}
    run = work(run, attempt=2)
    assert run.state == StatementRunState.DONE and run.attempts == 2 and run.issued == 5
    one_statement_and_one_text_each(patients)


def test_a_worker_dying_after_its_commit_before_queueing_the_next_chunk_is_resumed(
    personas, clock, resumed, monkeypatch
):
    patients = owing_patients(personas, 4)
    run = waiting_run(personas)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(statement_runs, "task_enqueue", lambda *args: None)  # the next task is never queued
        issued = 0
        while not issued:  # the first chunks hold the personas, who owe nothing
            with TestCase.captureOnCommitCallbacks(execute=True):
                issued = statement_run_chunk(run_id=run.pk, attempt=1)
    assert 0 < Statement.objects.count() < len(patients)
    clock.shift(timedelta(minutes=6))
    assert statement_runs_recover()["resumed"] == 1
    run = work(run, attempt=2)
    assert run.state == StatementRunState.DONE and run.issued == 4
    one_statement_and_one_text_each(patients)


def test_a_live_run_with_a_fresh_heartbeat_is_left_alone(personas, clock, resumed, monkeypatch):
    owing_patients(personas, 5)
    run = waiting_run(personas)
    with worker_dies_at(2, monkeypatch):
        work(run)
    for _ in range(3):  # its chunks keep committing (another worker): its heartbeat keeps moving
        clock.shift(timedelta(minutes=4))
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(statement_runs, "task_enqueue", lambda *args: None)
            with TestCase.captureOnCommitCallbacks(execute=True):
                statement_run_chunk(run_id=run.pk, attempt=1)
        assert statement_runs_recover() == {"resumed": 0, "failed": 0}
    run.refresh_from_db()
    assert run.attempts == 1 and resumed == []


def test_after_the_most_attempts_the_run_fails_with_its_reason(personas, clock, resumed, monkeypatch):
    patients = owing_patients(personas, 3)
    run = waiting_run(personas)
    for attempt in range(1, RUN_MAX_ATTEMPTS + 1):
        with worker_dies_at(1, monkeypatch):  # every attempt dies in its first chunk
            work(run, attempt=attempt)
        clock.shift(timedelta(minutes=6))
        expected = {"resumed": 1, "failed": 0} if attempt < RUN_MAX_ATTEMPTS else {"resumed": 0, "failed": 1}
        assert statement_runs_recover() == expected
    run.refresh_from_db()
    assert run.state == StatementRunState.FAILED and run.finished_at == NOW + timedelta(
        minutes=6 * RUN_MAX_ATTEMPTS
    )
    assert f"interrupted {RUN_MAX_ATTEMPTS} times" in run.failure_reason
    for patient in patients:
        assert patient.legal_first_name not in run.failure_reason and patient.mrn not in run.failure_reason
    assert not Statement.objects.exists()
    assert not Message.objects.filter(subject_key__startswith="statement:").exists()
    assert statement_runs_recover() == {"resumed": 0, "failed": 0}  # failed stays failed
    assert statement_run_chunk(run_id=run.pk) == 0


def test_the_recovery_sweep_is_on_the_beat_schedule():
    from careline.celery import _beat_schedule, app

    entries = [e for e in _beat_schedule().values() if e["task"] == "billing.statement_runs_recover"]
    assert len(entries) == 1 and float(entries[0]["schedule"]) <= 60
    assert "billing.statement_runs_recover" in app.tasks
