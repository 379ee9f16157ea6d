"""The bulk run: statements for every patient (of one location, or all) with a balance due and a visit ready.

Starting a run cuts the patients' ids into chunks (`StatementRunChunk`, CHUNK ids each) and queues
CARELINE_STATEMENT_RUN_WORKERS tasks. Each task claims one chunk not done yet with `SELECT ... FOR UPDATE
SKIP LOCKED` (workers never wait for each other's chunks), issues statements to its patients who owe money on
a ready visit and have none of the run's date yet (`statements_issue_many`), marks the chunk done in the same
transaction and, after commit, moves the run's heartbeat and queues itself again. The task that finds no
chunk left marks the run done.

Recovery: a worker that dies mid-chunk rolls back and releases the chunk's row (another worker takes it from
the start); a task delivered twice finds the chunk done or locked. A run whose tasks are all gone (the first
task lost, or every worker died after a commit before queueing its next task) is taken over by
`statement_runs_recover` (beat, every minute): no chunk committed for RUN_STALE_AFTER (or still queued after
RUN_LOST_TASK_AFTER), it is claimed for a new attempt with a conditional update and its tasks queued again;
a worker of an older attempt stops at its next chunk. After RUN_MAX_ATTEMPTS it fails with a reason that
names no patient. Nobody gets two statements of one day: the chunk skips patients who have one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from careline.billing.models import (
    RUN_LOST_TASK_AFTER,
    RUN_MAX_ATTEMPTS,
    RUN_STALE_AFTER,
    Statement,
    StatementRun,
    StatementRunChunk,
    StatementRunState,
)
from careline.billing.queries import balances_where, patients_with_ready_charges
from careline.billing.services.statement_batches import statements_issue_many
from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.core.collector import collection_paused
from careline.core.queue import task_enqueue
from careline.locations.models import Location
from careline.patients.models import Patient

logger = logging.getLogger(__name__)

CHUNK = 500
RUN_JOB = "statement-run"
TASK = "billing.statement_run_chunk"
RECOVER_LIMIT = 20
FAILED_INTERRUPTED = (
    "The run was interrupted %(times)s times (its workers stopped before it finished); the statements issued "
    "so far stand. Start a new run for the same day to finish it: nobody gets a second statement."
)
OPEN = (StatementRunState.QUEUED, StatementRunState.RUNNING)


def _scope(location: Location | None) -> QuerySet[Patient]:
    patients = Patient.objects.all()
    return patients.filter(primary_location=location) if location is not None else patients


def _chunk_bounds(ids: list[int], size: int) -> list[tuple[int, int]]:
    return [(ids[i], ids[min(i + size, len(ids)) - 1]) for i in range(0, len(ids), size)]


def statement_run_start(
    *,
    actor: Actor,
    statement_date: date | None = None,
    due_date: date | None = None,
    location: Location | None = None,
    size: int = CHUNK,
) -> StatementRun:
    """Start a run for STATEMENT_DATE (today) of LOCATION's patients (everyone's when None), due on DUE_DATE
    (the default days later); its chunks are made now and its workers queued after commit (audited)."""
    today = statement_date or timezone.localdate()
    due = due_date or today + timedelta(days=settings.CARELINE_STATEMENT_DUE_DAYS)
    if due < today:
        raise ValidationError({"due_date": "The due date is on or after the statement date."})
    if due > today + timedelta(days=365):
        raise ValidationError({"due_date": "Give a due date within a year of the statement date."})
    now = timezone.now()
    with transaction.atomic():
        run = StatementRun.objects.create(
            statement_date=today, due_date=due, location=location, created_at=now, updated_at=now,
            created_by=actor.user, attempts=1,
        )  # fmt: skip
        ids = list(_scope(location).order_by("pk").values_list("pk", flat=True))
        StatementRunChunk.objects.bulk_create(
            [StatementRunChunk(run=run, first_id=a, last_id=b) for a, b in _chunk_bounds(ids, size)],
            batch_size=1_000,
        )
        where = location.name if location is not None else "every location"
        audit_record(
            actor=actor, action=AuditAction.CREATE, obj=run,
            detail=f"statement run for {run.statement_date} ({where}), due {due}",
        )  # fmt: skip
        run_id = run.pk
        transaction.on_commit(lambda: _workers_enqueue(run_id, 1))
    return run


def _workers_enqueue(run_id: int, attempt: int) -> None:
    for _ in range(settings.CARELINE_STATEMENT_RUN_WORKERS):
        task_enqueue(TASK, run_id, attempt)


def _due_date(run: StatementRun) -> date:
    return run.due_date or run.statement_date + timedelta(days=settings.CARELINE_STATEMENT_DUE_DAYS)


@dataclass
class Candidates:
    """A chunk's patients who get a statement, and how many were skipped (and why)."""

    patients: list[Patient] = field(default_factory=list)
    already: int = 0  # a statement of the run's date already


def _candidates(run: StatementRun, chunk: StatementRunChunk) -> Candidates:
    """CHUNK's patients (in the run's location) who owe money and have no statement of the run's date."""
    patients = _scope(run.location).filter(pk__gte=chunk.first_id, pk__lte=chunk.last_id)
    owing_ids = [pk for pk, balance in balances_where(patients).items() if balance.due > 0]
    owing = list(patients.filter(pk__any_of=owing_ids).select_related("primary_location").order_by("pk"))
    done_today = set(
        Statement.objects.filter(
            patient_id__any_of=[p.pk for p in owing], statement_date=run.statement_date
        ).values_list("patient_id", flat=True)
    )
    return Candidates([p for p in owing if p.pk not in done_today], len(done_today))


def _claim_chunk(run: StatementRun) -> StatementRunChunk | None:
    todo = StatementRunChunk.objects.filter(run=run, done_at__isnull=True).order_by("first_id")
    if connection.features.has_select_for_update_skip_locked:
        todo = todo.select_for_update(skip_locked=True)
    return todo.first()


def statement_run_chunk(*, run_id: int, attempt: int | None = None) -> int:
    """Work one chunk of run RUN_ID not done yet; the statements issued. Queues the next task while chunks
    remain; marks the run done when none does. A worker of an older ATTEMPT than the run's stops."""
    actor = Actor.system(RUN_JOB)
    # A chunk allocates tens of thousands of short-lived objects: the cyclic collector would walk them for
    # nothing (careline/core/collector.py).
    with collection_paused(), transaction.atomic():
        run = StatementRun.objects.select_related("location").filter(pk=run_id).first()
        if run is None or run.state not in OPEN or (attempt is not None and run.attempts != attempt):
            return 0
        attempt = run.attempts
        chunk = _claim_chunk(run)
        if chunk is not None:
            found = _candidates(run, chunk)
            issued = skipped = 0
            if found.patients:
                issued, skipped = statements_issue_many(
                    patients=found.patients, actor=actor, statement_date=run.statement_date,
                    due_date=_due_date(run),
                )  # fmt: skip
            chunk.done_at = timezone.now()
            chunk.issued, chunk.skipped, chunk.already = issued, skipped, found.already
            chunk.save(update_fields=["done_at", "issued", "skipped", "already"])
    if chunk is None:
        _run_finish(run_id)
        return 0
    now = timezone.now()
    # Outside the chunk's transaction: parallel workers never hold the run's row while they work.
    StatementRun.objects.filter(pk=run_id, attempts=attempt, state__in=OPEN).update(
        state=StatementRunState.RUNNING, heartbeat_at=now, updated_at=now
    )
    transaction.on_commit(lambda: task_enqueue(TASK, run_id, attempt))
    return issued


def _run_finish(run_id: int) -> None:
    """Mark the run done once no chunk is left (chunks other workers still hold are not done: they finish it)."""
    with transaction.atomic():
        if StatementRunChunk.objects.filter(run_id=run_id, done_at__isnull=True).exists():
            return
        totals = StatementRunChunk.objects.filter(run_id=run_id).aggregate(
            issued=Sum("issued"), skipped=Sum("skipped")
        )
        now = timezone.now()
        StatementRun.objects.filter(pk=run_id, state__in=OPEN).update(
            state=StatementRunState.DONE, finished_at=now, updated_at=now, heartbeat_at=now,
            issued=totals["issued"] or 0, skipped=totals["skipped"] or 0,
        )  # fmt: skip


def statement_runs_recover(*, now: datetime | None = None) -> dict[str, int]:
    """Take over statement runs whose first task was lost or whose workers all stopped (no chunk committed
    for RUN_STALE_AFTER): claimed for a new attempt and queued again, or failed after RUN_MAX_ATTEMPTS with
    the reason shown on the run's page. Safe on many hosts at once: rows are locked with SKIP LOCKED and each
    claim is a conditional UPDATE on the attempt it saw."""
    now = now or timezone.now()
    lost = Q(
        state=StatementRunState.QUEUED, heartbeat_at__isnull=True, created_at__lt=now - RUN_LOST_TASK_AFTER
    )
    dead = Q(state=StatementRunState.RUNNING) & (
        Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=now - RUN_STALE_AFTER)
    )
    due = StatementRun.objects.filter(lost | dead).order_by("pk")
    resumed: list[tuple[int, int]] = []
    failed = 0
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        for run_id, attempts in list(due.values_list("pk", "attempts")[:RECOVER_LIMIT]):
            mine = StatementRun.objects.filter(lost | dead, pk=run_id, attempts=attempts)
            if attempts >= RUN_MAX_ATTEMPTS:
                failed += mine.update(
                    state=StatementRunState.FAILED, finished_at=now, updated_at=now,
                    failure_reason=FAILED_INTERRUPTED % {"times": attempts},
                )  # fmt: skip
            elif mine.update(
                state=StatementRunState.RUNNING, attempts=attempts + 1, heartbeat_at=now, updated_at=now
            ):
                resumed.append((run_id, attempts + 1))
    for run_id, attempt in resumed:
        logger.warning("statement run %s: taken over by the recovery sweep (attempt %s)", run_id, attempt)
        _workers_enqueue(run_id, attempt)
    return {"resumed": len(resumed), "failed": failed}


# --- what a run would do, and how far it is ------------------------------------------------------------------


@dataclass(frozen=True)
class RunPreview:
    """What a run of LOCATION on a date would do now: who gets a statement and who is skipped, and why."""

    patients: int
    owing: int
    would_issue: int
    not_ready: int  # owe money, but no visit has all its claims final (nor is self-pay)
    already: int  # owe money, and have a statement of that date already

    @property
    def skipped(self) -> int:
        return self.not_ready + self.already


def statement_run_preview(*, location: Location | None, statement_date: date) -> RunPreview:
    """The counts a run for STATEMENT_DATE of LOCATION's patients would give now (no patient data)."""
    patients = _scope(location)
    total = patients.count()
    owing = sorted(pk for pk, balance in balances_where(patients).items() if balance.due > 0)
    already = set(
        Statement.objects.filter(statement_date=statement_date, patient_id__in=owing).values_list(
            "patient_id", flat=True
        )
    )
    left = [pk for pk in owing if pk not in already]
    not_ready = 0
    for start in range(0, len(left), 2_000):
        ids = left[start : start + 2_000]
        not_ready += len(ids) - len(patients_with_ready_charges(ids))
    return RunPreview(total, len(owing), len(left) - not_ready, not_ready, len(already))


@dataclass(frozen=True)
class RunProgress:
    chunks: int
    chunks_done: int
    issued: int
    skipped: int
    already: int

    @property
    def percent(self) -> int:
        return 100 if not self.chunks else round(100 * self.chunks_done / self.chunks)


def statement_run_progress(run: StatementRun) -> RunProgress:
    """How far RUN is: its chunks done and the statements issued so far (one query)."""
    totals = StatementRunChunk.objects.filter(run=run).aggregate(
        chunks=Count("pk"), done=Count("pk", filter=Q(done_at__isnull=False)), issued=Sum("issued"),
        skipped=Sum("skipped"), already=Sum("already"),
    )  # fmt: skip
    return RunProgress(
        totals["chunks"],
        totals["done"],
        totals["issued"] or 0,
        totals["skipped"] or 0,
        totals["already"] or 0,
    )
