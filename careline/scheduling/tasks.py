"""Celery tasks of scheduling: each takes ids, calls a service, and nothing else."""

from __future__ import annotations

from celery import shared_task

from careline.scheduling.services.reminder_replans import reminder_replan_run
from careline.scheduling.services.reminders import reminders_send_and_dispatch, reminders_sweep
from careline.scheduling.services.waitlist import waitlist_offers_expire


@shared_task(name="scheduling.reminders_sweep", ignore_result=True)
def sweep_reminders() -> dict[str, int]:
    """Claim due reminders and enqueue them in batches (beat runs this every CARELINE_SWEEP_SECONDS)."""
    return reminders_sweep()


@shared_task(name="scheduling.send_reminders", ignore_result=True)
def send_reminders(reminder_ids: list[int]) -> dict[str, int]:
    """Send a batch of claimed reminders (a duplicate delivery of the batch sends nothing twice)."""
    return reminders_send_and_dispatch(reminder_ids=reminder_ids)


@shared_task(name="scheduling.waitlist_offers_expire", ignore_result=True)
def expire_waitlist_offers() -> int:
    """Expire waitlist offers past their time and offer those slots to the next patients (beat, every minute)."""
    return waitlist_offers_expire()


@shared_task(name="scheduling.reminder_replan_run", ignore_result=True)
def run_reminder_replan(replan_id: int) -> None:
    """Re-plan upcoming visits' reminders after a rule change (a duplicate delivery finds the job taken)."""
    reminder_replan_run(replan_id=replan_id)
