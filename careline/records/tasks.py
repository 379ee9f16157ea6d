"""Celery tasks of records: each calls a service, nothing else."""

from __future__ import annotations

from celery import shared_task

from careline.records.services.results import results_release_due


@shared_task(name="records.results_release_sweep", ignore_result=True)
def sweep_results_release() -> int:
    """Release results whose rule's delay has passed (beat runs this every CARELINE_SWEEP_SECONDS)."""
    return results_release_due()
