"""Shared steps of the statement run tests: patients who owe, a run whose tasks were lost, a dying worker."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import date
from typing import Any

import pytest
from django.test import TestCase

from careline.billing.models import Statement, StatementRun
from careline.billing.services import statement_batches, statement_runs
from careline.billing.tests.statement_support import billing_consent
from careline.billing.tests.support import owing
from careline.core.actor import Actor
from careline.messaging.models import Message
from careline.patients.models import ConsentKind, ConsentMethod, Patient
from careline.patients.services.registry import consent_record

RUN_DAY = date(2030, 3, 12)


class WorkerDied(BaseException):
    """The worker process stopped (killed, out of memory): nothing in the task catches it."""


def owing_patients(personas: Any, count: int, *, prefix: str = "RUN") -> list[Patient]:
    """COUNT patients at location A who owe $10 on a ready visit and take billing texts."""
    made = []
    for number in range(count):
        patient = Patient.objects.create(
            mrn=f"MRN-{prefix}-{number}", legal_first_name=f"Run{number}", legal_last_name="Owing",
            date_of_birth=date(1990, 1, 1), primary_location=personas.location_a,
        )  # fmt: skip
        patient.phones.create(number=f"+1312557{len(prefix)}{number:03d}", kind="mobile", is_primary=True)
        consent_record(
            phone_number=patient.phones.get().number, kind=ConsentKind.GIVEN, method=ConsentMethod.FORM,
            patient=patient, actor=Actor.staff(personas.front_a),
        )  # fmt: skip
        billing_consent(personas, patient)
        owing(personas, 1_000, patient)
        made.append(patient)
    return made


def waiting_run(personas: Any, *, size: int = 2, location: Any = None) -> StatementRun:
    """A run started as the page starts it, whose tasks were lost (never queued)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(statement_runs, "task_enqueue", lambda *args: None)
        return statement_runs.statement_run_start(
            actor=Actor.staff(personas.billing_a), statement_date=RUN_DAY, size=size, location=location
        )


def work(run: StatementRun, *, attempt: int | None = None) -> StatementRun:
    """Run RUN's chunk task until it stops queueing itself (what a worker does, one task after another)."""
    queued: list[tuple[Any, ...]] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(statement_runs, "task_enqueue", lambda *args: queued.append(args))
        with TestCase.captureOnCommitCallbacks(execute=True):
            statement_runs.statement_run_chunk(run_id=run.pk, attempt=attempt)
        while queued:
            _, run_id, next_attempt = queued.pop()
            with TestCase.captureOnCommitCallbacks(execute=True):
                statement_runs.statement_run_chunk(run_id=run_id, attempt=next_attempt)
    run.refresh_from_db()
    return run


@contextmanager
def worker_dies_at(call: int, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The worker stops inside the CALL-th chunk (1-based) it works, after writing part of it."""
    real: Callable[..., Any] = statement_batches.messages_send_bulk
    calls = {"n": 0}

    def sending(**kwargs: Any) -> Any:
        calls["n"] += 1
        result = real(**kwargs)
        if calls["n"] == call:
            raise WorkerDied
        return result

    with monkeypatch.context() as patch:
        patch.setattr(statement_batches, "messages_send_bulk", sending)
        with suppress(WorkerDied):
            yield


def one_statement_and_one_text_each(patients: list[Patient]) -> None:
    for patient in patients:
        assert Statement.objects.filter(patient=patient, statement_date=RUN_DAY).count() == 1, patient.mrn
        texts = Message.objects.filter(patient=patient, direction="out", subject_key__startswith="statement:")
        assert texts.count() == 1, patient.mrn
