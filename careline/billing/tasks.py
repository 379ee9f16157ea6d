"""Celery tasks of billing: each takes a row id and calls a service, or sweeps what is due (beat)."""

from __future__ import annotations

from celery import shared_task

from careline.billing.services.collections import followups_sweep
from careline.billing.services.plans import plans_sweep
from careline.billing.services.statement_runs import statement_run_chunk


@shared_task(name="billing.statement_run_chunk")
def statement_run_chunk_task(run_id: int) -> None:
    """Work the next chunk of statement run RUN_ID (a repeated delivery finds nothing left or moves on)."""
    statement_run_chunk(run_id=run_id)


@shared_task(name="billing.followups_sweep", ignore_result=True)
def sweep_followups() -> int:
    """Act on the collections follow-ups that are due (or stop those that no longer apply)."""
    return followups_sweep()


@shared_task(name="billing.plans_sweep", ignore_result=True)
def sweep_plans() -> int:
    """Payment plans' reminders, missed-instalment follow-ups and flags."""
    return plans_sweep()
