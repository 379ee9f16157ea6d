"""Celery tasks of care: each calls a service, nothing else."""

from __future__ import annotations

from celery import shared_task

from careline.care.services.checkins import care_sweep, checkins_plan_ahead


@shared_task(name="care.sweep", ignore_result=True)
def sweep_care() -> dict[str, int]:
    """Send due check-ins, remind, mark missed, escalate alerts (beat: every CARELINE_SWEEP_SECONDS)."""
    return care_sweep()


@shared_task(name="care.plan_ahead", ignore_result=True)
def plan_care_checkins() -> int:
    """End finished enrolments and plan check-ins a week ahead (beat: hourly)."""
    return checkins_plan_ahead()
