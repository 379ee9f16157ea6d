"""Celery tasks of surveys: each calls a service, nothing else."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from careline.surveys.services.sending import surveys_sweep
from careline.surveys.services.service_rollup import service_rollup_refresh


@shared_task(name="surveys.sweep", ignore_result=True)
def sweep_surveys() -> dict[str, int]:
    """Send due surveys and end unanswered ones (beat: every CARELINE_SWEEP_SECONDS)."""
    return surveys_sweep()


@shared_task(name="surveys.service_rollup", ignore_result=True)
def service_rollup() -> dict[str, Any]:
    """Bring the Service report's rolled-up rows up to date (beat: every CARELINE_SWEEP_SECONDS)."""
    return service_rollup_refresh()
