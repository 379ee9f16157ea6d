"""Celery tasks of billing: each takes a row id and calls a service."""

from __future__ import annotations

from celery import shared_task

from careline.billing.services.statement_runs import statement_run_chunk


@shared_task(name="billing.statement_run_chunk")
def statement_run_chunk_task(run_id: int) -> None:
    """Work the next chunk of statement run RUN_ID (a repeated delivery finds nothing left or moves on)."""
    statement_run_chunk(run_id=run_id)
