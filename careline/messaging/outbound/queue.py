"""Queueing send tasks and claiming messages: only one worker ever sends a given message.

Tasks carry ids only and go out after commit; a claim is a conditional UPDATE (QUEUED -> SENDING) or, for
a batch, `SELECT ... FOR UPDATE SKIP LOCKED`. Send rates are held by outbound/ratelimit.py.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from careline.core.queue import task_enqueue
from careline.messaging.models import Message, MessageState

SENDING_TIMEOUT = timedelta(seconds=settings.CARELINE_SENDING_TIMEOUT_SECONDS)  # then its worker is gone
# A due row not claimed this long after enqueueing lost its task.
LOST_TASK_AFTER = timedelta(seconds=settings.CARELINE_LOST_TASK_SECONDS)
DISPATCH_BATCH = 50  # messages per send task when many are queued at once


def messages_enqueue(message_ids: Sequence[int]) -> None:
    """Send the dispatch tasks of committed MESSAGE_IDS (held back inside messages_enqueue_batched)."""
    batches = getattr(_batching, "ids", None)
    if batches is not None:
        batches.extend(message_ids)  # sent when the messages_enqueue_batched() block ends
        return
    ids = list(message_ids)
    if len(ids) == 1:
        task_enqueue("messaging.dispatch_message", ids[0])
        return
    for start in range(0, len(ids), DISPATCH_BATCH):
        task_enqueue("messaging.dispatch_messages", ids[start : start + DISPATCH_BATCH])


_batching = threading.local()


@contextmanager
def messages_enqueue_batched() -> Iterator[None]:
    """Within this block, the send tasks of committed messages wait and go out in batches at its end.

    For code creating many messages at once (announcements, imports, benchmarks): one task then sends up
    to DISPATCH_BATCH messages, which saves a broker round trip and a claim query per message.
    """
    if getattr(_batching, "ids", None) is not None:
        yield  # nested: the outer block sends
        return
    _batching.ids = []
    try:
        yield
    finally:
        ids, _batching.ids = _batching.ids, None
        if ids:
            messages_enqueue(ids)


def messages_enqueue_batching() -> bool:
    """Whether this thread is inside a batching or holding block (its send tasks go out when it ends)."""
    return getattr(_batching, "ids", None) is not None


@contextmanager
def messages_enqueue_held() -> Iterator[list[int]]:
    """Within this block, the send tasks of committed messages wait: their ids collect in the list yielded.

    For a task that sends what it made itself (messages_dispatch after its commit): it takes those ids out
    of the list; the ids still in it when the block ends go out as tasks then. Nested in a batching block,
    the list stays empty (the outer block sends).
    """
    if getattr(_batching, "ids", None) is not None:
        yield []
        return
    held: list[int] = []
    _batching.ids = held
    try:
        yield held
    finally:
        _batching.ids = None
        if held:
            messages_enqueue(held)


def message_claim(message_id: int, *, now: datetime | None = None) -> bool:
    """Move a due QUEUED message to SENDING; True for the one caller that wins."""
    now = now or timezone.now()
    return bool(
        Message.objects.filter(pk=message_id, state=MessageState.QUEUED)
        .filter(Q(due_at__isnull=True) | Q(due_at__lte=now))
        .update(state=MessageState.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )


def messages_claim(message_ids: Sequence[int], now: datetime) -> list[int]:
    """Claim the due QUEUED messages among MESSAGE_IDS (one transaction); the ids this caller won."""
    if len(message_ids) == 1:
        return list(message_ids) if message_claim(message_ids[0], now=now) else []
    with transaction.atomic():
        # Locked rows are another worker's claim in progress: skipped; once it commits they are SENDING.
        won = list(
            Message.objects.select_for_update(skip_locked=True)
            .filter(pk__any_of=list(message_ids), state=MessageState.QUEUED)
            .filter(Q(due_at__isnull=True) | Q(due_at__lte=now))
            .values_list("pk", flat=True)
        )
        if won:
            Message.objects.filter(pk__any_of=won).update(
                state=MessageState.SENDING, claimed_at=now, attempts=F("attempts") + 1
            )
    return won
