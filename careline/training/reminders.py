"""Reminder emails to staff about their training: before the due date and, once overdue, weekly.

The sweep (beat) writes a Reminder row per task and day; its unique key (task, day) means two workers, or
two sweeps the same day, write one. Each row is then claimed (queued -> sending) by one worker and sent
through the default email channel's staff path. The emails name the course or protocol and the due date,
never a patient.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from careline.core.queue import task_enqueue
from careline.training.models import Reminder, ReminderKind, ReminderState, Task, TaskState

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
RETRY_AFTER = timedelta(minutes=5)
STUCK_AFTER = timedelta(minutes=10)
OVERDUE_EVERY_DAYS = 7


def reminder_kind_for(task_due: date, today: date) -> str | None:
    """Which reminder TODAY brings for a task due TASK_DUE: before (on a configured day), overdue, or none.

    Overdue reminders go the day after the due date and then every OVERDUE_EVERY_DAYS days.
    """
    days_left = (task_due - today).days
    if days_left in settings.CARELINE_TRAINING_REMINDER_DAYS:
        return ReminderKind.BEFORE
    if days_left < 0 and (-days_left - 1) % OVERDUE_EVERY_DAYS == 0:
        return ReminderKind.OVERDUE
    return None


def reminder_text(task: Task, kind: str, today: date) -> tuple[str, str]:
    """(subject, body): the course or protocol's title and due date, and the link to My training."""
    link = settings.PUBLIC_BASE_URL.rstrip("/") + reverse("training:mine")
    due = task.due_on.strftime("%d %b %Y")
    if kind == ReminderKind.OVERDUE:
        subject = f"Training overdue: {task.title}"
        lead = f"Your training “{task.title}” was due on {due} and is not done yet."
    else:
        days = (task.due_on - today).days
        subject = f"Training due in {days} day{'s' if days != 1 else ''}: {task.title}"
        lead = f"Your training “{task.title}” is due on {due}."
    body = f"{lead}\n\nOpen My training in Careline (sign-in required): {link}\n"
    return subject[:200], body


def reminders_plan(*, today: date | None = None) -> list[int]:
    """Write today's reminder rows for open tasks (once per task and day); the ids of those written."""
    today = today or timezone.localdate()
    horizon = today + timedelta(days=max(settings.CARELINE_TRAINING_REMINDER_DAYS, default=0))
    tasks = (
        Task.objects.filter(state=TaskState.OPEN, due_on__lte=horizon, user__is_active=True)
        .exclude(user__email="")
        .select_related("user", "course", "protocol_version__protocol")
    )
    written = []
    for task in tasks:
        kind = reminder_kind_for(task.due_on, today)
        if kind is None:
            continue
        subject, body = reminder_text(task, kind, today)
        try:
            with transaction.atomic():
                reminder = Reminder.objects.create(
                    task=task,
                    kind=kind,
                    on_date=today,
                    to_address=task.user.email,
                    subject=subject,
                    body=body,
                )
        except IntegrityError:
            continue  # another worker wrote today's reminder for this task
        written.append(reminder.pk)
    if written:
        transaction.on_commit(lambda: _enqueue(written))
    return written


def _enqueue(ids: list[int]) -> None:
    for pk in ids:
        task_enqueue("training.reminder_send", pk)


def reminder_send(reminder_id: int) -> str:
    """Send reminder REMINDER_ID once (claimed queued -> sending); its state afterwards ('' if not claimed)."""
    from careline.messaging.channels.base import ProviderError
    from careline.messaging.services.channels import channel_default

    now = timezone.now()
    claimed = Reminder.objects.filter(pk=reminder_id, state=ReminderState.QUEUED).update(
        state=ReminderState.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return ""
    reminder = Reminder.objects.get(pk=reminder_id)
    channel = channel_default("email")
    try:
        if channel is None:
            raise ProviderError("no email channel is configured", permanent=True)
        channel.type.send_to_staff(
            channel, to_address=reminder.to_address, subject=reminder.subject, body=reminder.body
        )
    except ProviderError as error:
        final = error.permanent or reminder.attempts >= MAX_ATTEMPTS
        Reminder.objects.filter(pk=reminder_id, state=ReminderState.SENDING).update(
            state=ReminderState.FAILED if final else ReminderState.QUEUED, error=str(error)[:200]
        )
        logger.warning(
            "training reminder %s failed (%s): %s", reminder_id, "final" if final else "retry", error
        )
        return ReminderState.FAILED if final else ReminderState.QUEUED
    Reminder.objects.filter(pk=reminder_id, state=ReminderState.SENDING).update(
        state=ReminderState.SENT, sent_at=timezone.now(), error=""
    )
    return ReminderState.SENT


def reminders_requeue(*, now: Any = None) -> int:
    """Queue again reminders left queued (retries, lost tasks) or sending by a dead worker; how many."""
    now = now or timezone.now()
    Reminder.objects.filter(state=ReminderState.SENDING, claimed_at__lt=now - STUCK_AFTER).update(
        state=ReminderState.QUEUED
    )
    ids = list(
        Reminder.objects.filter(state=ReminderState.QUEUED)
        .filter(claimed_at__isnull=True)
        .values_list("pk", flat=True)[:500]
    )
    retry = list(
        Reminder.objects.filter(state=ReminderState.QUEUED, claimed_at__lt=now - RETRY_AFTER).values_list(
            "pk", flat=True
        )[:500]
    )
    for pk in ids + retry:
        task_enqueue("training.reminder_send", pk)
    return len(ids) + len(retry)


def training_sweep(*, today: date | None = None) -> int:
    """The beat's sweep: give assignments' tasks to staff who lack them, write today's reminders, send them."""
    from careline.training.services import assignments_apply

    assignments_apply(today=today)
    written = reminders_plan(today=today)
    reminders_requeue()
    return len(written)
