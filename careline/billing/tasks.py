"""Celery tasks of billing: each takes a row id and calls a service, or sweeps what is due (beat)."""

from __future__ import annotations

from celery import shared_task

from careline.billing.services.collections import followups_sweep
from careline.billing.services.plans import plans_sweep
from careline.billing.services.statement_runs import statement_run_chunk, statement_runs_recover


@shared_task(name="billing.statement_run_chunk")
def statement_run_chunk_task(run_id: int, attempt: int | None = None) -> None:
    """Work one chunk of statement run RUN_ID (a repeated delivery finds nothing left or moves on; a task of
    an attempt the recovery sweep replaced stops)."""
    statement_run_chunk(run_id=run_id, attempt=attempt)


@shared_task(name="billing.statement_runs_recover", ignore_result=True)
def recover_statement_runs() -> dict[str, int]:
    """Take over statement runs whose tasks were lost or whose workers all stopped."""
    return statement_runs_recover()


@shared_task(name="billing.followups_sweep", ignore_result=True)
def sweep_followups() -> int:
    """Act on the collections follow-ups that are due (or stop those that no longer apply)."""
    return followups_sweep()


@shared_task(name="billing.plans_sweep", ignore_result=True)
def sweep_plans() -> int:
    """Payment plans' reminders, missed-instalment follow-ups and flags."""
    return plans_sweep()
