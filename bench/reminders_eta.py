"""The common design the reminder benchmark compares against: one Celery task per reminder, with an ETA.

Workers load this module with `celery worker -I bench.reminders_eta`. At its ETA the task claims its one
reminder and sends it through the same services as the sweep (`reminders_send` -> `message_send` -> a
dispatch task), so the two designs differ only in how the due reminders reach the workers.
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from careline.scheduling.models import Reminder, ReminderState
from careline.scheduling.services.reminders import reminders_send


@shared_task(name="bench.send_reminder_eta", ignore_result=True)
def send_reminder_eta(reminder_id: int) -> dict[str, int]:
    """Claim one due reminder and send it (the per-reminder ETA design)."""
    now = timezone.now()
    if not Reminder.objects.filter(pk=reminder_id, state=ReminderState.PENDING).update(
        state=ReminderState.SENDING, claimed_at=now
    ):
        return {}
    return reminders_send(reminder_ids=[reminder_id], now=now)
