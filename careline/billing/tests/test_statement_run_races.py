"""Statement runs on PostgreSQL with real concurrency: workers working one run at once claim different chunks
(SKIP LOCKED) and give each patient one statement and one text; two recovery sweeps at once take a dead run
over once; a worker holding a chunk mid-work is skipped, not waited for."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

import pytest
from django.db import connections, transaction

from careline.billing.models import StatementRun, StatementRunState
from careline.billing.services import statement_runs
from careline.billing.services.statement_runs import statement_run_chunk, statement_runs_recover
from careline.billing.tests.run_support import one_statement_and_one_text_each, owing_patients, waiting_run
from careline.testing.races import race

NOW = datetime(2030, 3, 12, 17, 0, tzinfo=UTC)
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.clock(NOW),
    pytest.mark.usefixtures("clock"),
]


@pytest.fixture(autouse=True)
def _texting_all_day(settings) -> None:
    settings.CARELINE_TEXTING_WINDOW = (time(0, 0), time.max)


def _workers(run_id: int, monkeypatch) -> tuple[dict[int, list[int]], Callable[[], int]]:
    """Workers: chunk after chunk (the queued task replaced by a loop) until a worker claims none. The chunks
    each thread claimed, by thread id, and the loop each thread runs."""
    claimed: dict[int, list[int]] = {}
    claim = statement_runs._claim_chunk

    def claim_recorded(run):
        chunk = claim(run)
        if chunk is not None:
            claimed.setdefault(threading.get_ident(), []).append(chunk.pk)
        return chunk

    monkeypatch.setattr(statement_runs, "_claim_chunk", claim_recorded)

    def loop() -> int:
        mine = claimed.setdefault(threading.get_ident(), [])
        while True:
            before = len(mine)
            statement_run_chunk(run_id=run_id)
            if len(mine) == before:
                return before

    return claimed, loop


def test_workers_at_once_claim_different_chunks_and_each_patient_gets_one_statement(personas, monkeypatch):
    monkeypatch.setattr(statement_runs, "task_enqueue", lambda *args: None)
    patients = owing_patients(personas, 8)
    run = waiting_run(personas)
    claimed, loop = _workers(run.pk, monkeypatch)
    race(loop, count=3)
    statement_run_chunk(run_id=run.pk)  # whoever comes last finds none left and finishes the run
    run.refresh_from_db()
    assert run.state == StatementRunState.DONE and run.issued == 8
    every_claim = [pk for pks in claimed.values() for pk in pks]
    assert sorted(every_claim) == sorted(run.chunks.values_list("pk", flat=True))  # each chunk once, by one
    one_statement_and_one_text_each(patients)


def test_two_sweeps_at_once_take_a_dead_run_over_once(personas, clock, monkeypatch):
    queued: list[tuple[int, int]] = []
    monkeypatch.setattr(
        statement_runs, "_workers_enqueue", lambda run_id, attempt: queued.append((run_id, attempt))
    )
    owing_patients(personas, 2)
    dead = waiting_run(personas)
    lost = waiting_run(personas)
    StatementRun.objects.filter(pk=dead.pk).update(state="running", heartbeat_at=NOW)
    clock.shift(timedelta(minutes=6))
    results = race(statement_runs_recover)
    assert sum(result["resumed"] for result in results) == 2
    assert sorted(q for q in queued if q[1] == 2) == [
        (dead.pk, 2),
        (lost.pk, 2),
    ]  # after the starts (attempt 1)
    assert set(StatementRun.objects.values_list("attempts", flat=True)) == {2}


def test_a_sweep_skips_a_run_whose_row_a_worker_holds(personas, clock, monkeypatch):
    monkeypatch.setattr(statement_runs, "_workers_enqueue", lambda run_id, attempt: None)
    run = waiting_run(personas)
    StatementRun.objects.filter(pk=run.pk).update(state="running", heartbeat_at=NOW)
    clock.shift(timedelta(minutes=6))
    holding, done = threading.Event(), threading.Event()

    def holder() -> None:
        try:
            with transaction.atomic():
                StatementRun.objects.select_for_update().get(pk=run.pk)
                holding.set()
                done.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert holding.wait(10)
        result: dict[str, int] = {}

        def sweep() -> None:
            try:
                result.update(statement_runs_recover())
            finally:
                connections.close_all()

        sweeper = threading.Thread(target=sweep)
        sweeper.start()
        sweeper.join(10)
        assert not sweeper.is_alive() and result == {"resumed": 0, "failed": 0}
    finally:
        done.set()
        thread.join()
