"""The outbound sweep: enqueue due messages (retries, quiet hours, scheduled, lost tasks) and recover rows
stuck in SENDING after their worker died. Safe to run on many hosts at once."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from careline.core.broker_loss import tasks_lost_before
from careline.messaging.models import Message, MessageState
from careline.messaging.outbound import queue
from careline.messaging.outbound.status import AMBIGUOUS_MARK, message_find_sent, message_mark_sent

SWEEP_BATCH = 1000


def messages_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Enqueue due messages and recover ones whose worker died; safe to run on many hosts at once."""
    now = now or timezone.now()
    timeout = queue.SENDING_TIMEOUT
    stuck = list(
        Message.objects.filter(state=MessageState.SENDING, claimed_at__lt=now - timeout).values_list(
            "pk", flat=True
        )[:SWEEP_BATCH]
    )
    recovered = 0
    for message_id in stuck:
        message = Message.objects.select_related("channel").get(pk=message_id)
        found = message_find_sent(message)
        if found:
            message_mark_sent(message, found)
        else:
            recovered += Message.objects.filter(
                pk=message_id, state=MessageState.SENDING, claimed_at__lt=now - timeout
            ).update(
                state=MessageState.QUEUED,
                due_at=now,
                enqueued_at=None,
                error_message=AMBIGUOUS_MARK + "the worker stopped while sending",
            )
    lost_before = tasks_lost_before(now, after=queue.LOST_TASK_AFTER.total_seconds(), watcher="messages")
    due_rows = (
        Message.objects.filter(state=MessageState.QUEUED)
        .filter(Q(due_at__isnull=True) | Q(due_at__lte=now))
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=lost_before))
    )
    # Rows are locked (skipping ones another sweep holds) and marked in one transaction, so sweeps running
    # at once on several hosts enqueue each row once; the tasks go out only after the mark is committed.
    with transaction.atomic():
        due = list(
            due_rows.select_for_update(skip_locked=True)
            .order_by("due_at", "id")
            .values_list("pk", flat=True)[:SWEEP_BATCH]
        )
        Message.objects.filter(pk__in=due).update(enqueued_at=now, held_for_quiet_hours=False)
    queue.messages_enqueue(due)
    return {"enqueued": len(due), "recovered": recovered}
