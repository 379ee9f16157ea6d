"""Celery tasks of education: each calls a service, nothing else."""

from __future__ import annotations

from celery import shared_task

from careline.education.services import education_program_sweep


@shared_task(name="education.program_sweep", ignore_result=True)
def sweep_program_items() -> int:
    """Send care programs' education items that are due (beat: every CARELINE_SWEEP_SECONDS)."""
    return education_program_sweep()
