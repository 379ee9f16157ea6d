"""Celery tasks of staff training: each calls a service, nothing else."""

from __future__ import annotations

from celery import shared_task

from careline.training.reminders import reminder_send, training_sweep


@shared_task(name="training.reminder_send", ignore_result=True)
def send_reminder(reminder_id: int) -> str:
    """Send one training reminder email to a staff member, once."""
    return reminder_send(reminder_id)


@shared_task(name="training.sweep", ignore_result=True)
def sweep() -> int:
    """Give assignments' tasks, write today's reminders and send them (beat, hourly)."""
    return training_sweep()
