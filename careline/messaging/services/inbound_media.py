"""Media patients send (MMS): copied from the provider into Careline's storage, durably.

Staff then see Careline's copy through an authorized, audited view instead of the provider's address.
Only images and PDFs of at most MAX_ATTACHMENT_BYTES are kept.

The copy is a due row like a send: an inbound message with media gets `media_due_at` when it is stored.
The inbound processing task makes the first attempt; whoever copies first claims the message by a
conditional update that moves `media_due_at` a lease ahead (so a duplicate task finds nothing due, and a
worker that dies leaves the row due again when the lease runs out). A temporary failure (5xx, 429, a
timeout) leaves the item pending and the message due again after an exponential backoff, up to
MAX_ATTEMPTS; a permanent one (4xx, not an image or a PDF, too big) is final at once. Each item's `state`
is pending, copied (with `file`) or failed (with `error`, the reason staff see).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from careline.core.queue import task_enqueue
from careline.messaging.channels.base import ProviderError
from careline.messaging.models import Message
from careline.messaging.services.attachments import (
    MAX_ATTACHMENT_BYTES,
    inbound_media_type,
    media_delete,
    media_save,
)

logger = logging.getLogger(__name__)

PENDING, COPIED, FAILED = "pending", "copied", "failed"
MAX_ATTEMPTS = 6
FIRST_RETRY = timedelta(minutes=2)  # then 6, 18, 54 and 162 minutes: about four hours in all
BACKOFF_FACTOR = 3
# Longer than a round can take (each fetch has the client's timeout), so a live worker keeps its claim.
LEASE = timedelta(minutes=10)
# A sweep moves what it queues this far ahead, so the next sweeps do not queue it again while the task
# waits for a worker; a task may claim within it (shorter than LEASE: never someone else's claim).
QUEUED_GRACE = timedelta(minutes=2)
SWEEP_BATCH = 500
TEMPORARY_REASON = "the provider did not give the file"


def media_item_state(item: dict[str, Any], *, due: bool) -> str:
    """PENDING, COPIED or FAILED for one Message.media item (DUE: its message still has media to copy)."""
    state = str(item.get("state") or "")
    if state in (PENDING, COPIED, FAILED):
        return state
    # Items stored before states were recorded.
    if item.get("file"):
        return COPIED
    return PENDING if due and not item.get("error") else FAILED


def media_retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ATTEMPTS-th attempt failed for a temporary reason."""
    return FIRST_RETRY * BACKOFF_FACTOR ** max(attempts - 1, 0)


def inbound_media_initial(media: list[dict[str, str]]) -> list[dict[str, str]]:
    """The Message.media of a newly received message: every item pending copy."""
    return [{**item, "state": PENDING} for item in media]


def inbound_media_copy(message_id: int, *, now: datetime | None = None) -> int:
    """Copy the pending media of inbound message MESSAGE_ID if they are due; how many were copied.

    Runs in a task, never in the webhook: a slow provider must not hold the answer. A duplicate or
    early call does nothing (the claim fails).
    """
    now = now or timezone.now()
    lease_until = now + LEASE
    claimed = Message.objects.filter(
        pk=message_id, direction=Message.Direction.INBOUND, media_due_at__lte=now + QUEUED_GRACE
    ).update(media_due_at=lease_until, media_attempts=F("media_attempts") + 1)
    if not claimed:
        return 0
    message = Message.objects.select_related("channel").get(pk=message_id)
    items: list[Any] = [dict(item) if isinstance(item, dict) else item for item in message.media]
    pending = [
        item for item in items if isinstance(item, dict) and media_item_state(item, due=True) == PENDING
    ]
    attempt = message.media_attempts
    saved: list[str] = []
    retry = False
    for item in pending:
        outcome = _copy_one(message, item, attempt=attempt)
        if outcome == COPIED:
            saved.append(str(item["file"]))
        retry = retry or outcome == PENDING
    next_due = now + media_retry_delay(attempt) if retry else None
    # Written only while the claim is still ours: past the lease another worker may be copying.
    written = Message.objects.filter(pk=message_id, media_due_at=lease_until).update(
        media=items, media_due_at=next_due
    )
    if not written:
        for file in saved:
            media_delete(file)
        return 0
    return len(saved)


def _copy_one(message: Message, item: dict[str, Any], *, attempt: int) -> str:
    """Try to copy one pending ITEM (updated in place); its new state."""
    url = str(item.get("url") or "")
    if attempt > MAX_ATTEMPTS:
        # The previous rounds were claimed and never finished (a worker died each time).
        return _fail(item, f"the copy was started {MAX_ATTEMPTS} times without finishing")
    channel = message.channel
    try:
        data = channel.type.fetch_media(channel, url, max_bytes=MAX_ATTACHMENT_BYTES)
    except ProviderError as exc:
        # The address is not logged: it is the key to the patient's file at the provider.
        logger.info("media of inbound message %s not copied (attempt %s): %s", message.pk, attempt, exc)
        if exc.permanent:
            return _fail(item, str(exc)[:120])
        if attempt >= MAX_ATTEMPTS:
            return _fail(item, f"{TEMPORARY_REASON} ({MAX_ATTEMPTS} tries)")
        item["state"], item["error"] = PENDING, TEMPORARY_REASON
        return PENDING
    detected = inbound_media_type(data)
    if detected is None:
        return _fail(item, "not an image or a PDF")
    content_type, extension = detected
    item["file"] = media_save(conversation_id=message.conversation_id, data=data, extension=extension)
    item["content_type"] = content_type
    item["state"] = COPIED
    item.pop("error", None)
    return COPIED


def _fail(item: dict[str, Any], reason: str) -> str:
    item["state"], item["error"] = FAILED, reason
    return FAILED


def inbound_media_requeue(*, now: datetime | None = None) -> int:
    """Queue the copy of processed inbound messages whose media are due (a retry, a claim that ran out).

    The first attempt belongs to the processing task, hence processed rows only. Queued rows move
    QUEUED_GRACE ahead (so later sweeps skip them; a lost task is queued again after it); sweeps running
    at once on several hosts lock and mark different rows, and the tasks go out after the mark commits.
    Should a row still be queued twice, it is copied once: the claim decides.
    """
    now = now or timezone.now()
    due = Message.objects.filter(media_due_at__lte=now, processed_at__isnull=False)
    with transaction.atomic():
        ids = list(
            due.select_for_update(skip_locked=True)
            .order_by("media_due_at")
            .values_list("pk", flat=True)[:SWEEP_BATCH]
        )
        Message.objects.filter(pk__in=ids, media_due_at__lte=now).update(media_due_at=now + QUEUED_GRACE)
    if ids:
        task_enqueue("messaging.copy_inbound_media", ids)
    return len(ids)
