"""Celery tasks of surveys: each calls a service, nothing else."""

from __future__ import annotations

from celery import shared_task

from careline.surveys.services.sending import surveys_sweep


@shared_task(name="surveys.sweep", ignore_result=True)
def sweep_surveys() -> dict[str, int]:
    """Send due surveys and end unanswered ones (beat: every CARELINE_SWEEP_SECONDS)."""
    return surveys_sweep()
