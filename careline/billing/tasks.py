"""Billing's periodic sweeps (beat runs them every CARELINE_SWEEP_SECONDS)."""

from __future__ import annotations

from celery import shared_task

from careline.billing.services.collections import followups_sweep
from careline.billing.services.plans import plans_sweep


@shared_task(name="billing.followups_sweep", ignore_result=True)
def sweep_followups() -> int:
    """Act on the collections follow-ups that are due (or stop those that no longer apply)."""
    return followups_sweep()


@shared_task(name="billing.plans_sweep", ignore_result=True)
def sweep_plans() -> int:
    """Payment plans' reminders, missed-instalment follow-ups and flags."""
    return plans_sweep()
