"""Celery tasks of outreach: each calls a service, nothing else."""

from __future__ import annotations

from celery import shared_task

from careline.outreach.services.birthdays import birthdays_send
from careline.outreach.services.recalls import recalls_sweep


@shared_task(name="outreach.recalls_sweep", ignore_result=True)
def sweep_recalls() -> dict[str, int]:
    """Send the recall campaigns that are due (beat: every CARELINE_SWEEP_SECONDS)."""
    return recalls_sweep()


@shared_task(name="outreach.birthdays_sweep", ignore_result=True)
def sweep_birthdays() -> int:
    """Greet the patients whose birthday it is in their zone (beat: every 10 minutes)."""
    return birthdays_send()
