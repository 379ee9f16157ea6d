"""Sending claimed messages: re-check the policy, wait for a rate slot, call the channel type, record the result.

A temporary provider error puts the message back in the queue with a jittered backoff (`due_at`); a
permanent one, or running out of attempts, fails it. What a message is about may have changed while it
waited (a visit moved): that is asked just before sending, and such a message is cancelled.
"""

from __future__ import annotations

import random
import time as time_module
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from careline.messaging.channels.base import ProviderError
from careline.messaging.conversation_facts import conversation_facts
from careline.messaging.models import Conversation, Message, MessageState
from careline.messaging.outbound import queue
from careline.messaging.outbound.policy import SuppressionFacts, purpose_needs_consent, suppression_reason_for
from careline.messaging.outbound.status import (
    AMBIGUOUS_MARK,
    message_find_sent,
    message_mark_sent,
    number_facts_record,
)
from careline.messaging.subjects import subjects_stale

MAX_RATE_WAIT_SECONDS = 1.0


def backoff(attempt: int) -> timedelta:
    """Exponential backoff with jitter: 5-10 s, 10-20 s, 20-40 s ... (CARELINE_RETRY_BACKOFF_MS), at most 30 min."""
    base = settings.CARELINE_RETRY_BACKOFF_MS / 1000
    ceiling = min(base * 2 ** max(0, attempt - 1), 1800)
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))


def message_dispatch(message_id: int) -> str:
    """Send one message if it is due and nobody else is sending it; returns the state it ended in."""
    return messages_dispatch([message_id])[message_id]


def messages_dispatch(message_ids: Sequence[int]) -> dict[int, str]:
    """Send each of MESSAGE_IDS that is due and not being sent by anyone else; the state each ended in.

    A batch is claimed in one transaction and its consent and landline facts are read in two queries;
    a message still waiting its turn in a long batch renews its claim, so the sweep never takes it over.
    """
    results = dict.fromkeys(message_ids, "not-claimed")
    now = timezone.now()
    claimed = queue.messages_claim(message_ids, now)
    if not claimed:
        return results
    messages = list(
        Message.objects.select_related("channel", "patient").filter(pk__in=claimed).order_by("pk")
    )
    facts = None
    if len(messages) > 1:
        purposes = {message.purpose for message in messages if purpose_needs_consent(message.purpose)}
        facts = SuppressionFacts.load([message.to_address for message in messages], purposes=purposes)
    # What a message is about may have changed while it waited (a visit moved): asked just before sending.
    stale = subjects_stale(messages)
    renew_after = queue.SENDING_TIMEOUT.total_seconds() / 3
    started = time_module.monotonic()
    for message in messages:
        if time_module.monotonic() - started > renew_after:
            renewed = timezone.now()
            if not Message.objects.filter(
                pk=message.pk, state=MessageState.SENDING, claimed_at=message.claimed_at
            ).update(claimed_at=renewed):
                continue  # taken back by a sweep: no longer this worker's to send
            message.claimed_at, started = renewed, time_module.monotonic()
        if message.pk in stale:
            _finish(message, MessageState.CANCELLED, error_message=stale[message.pk][:300])
            results[message.pk] = MessageState.CANCELLED
            continue
        results[message.pk] = _dispatch_claimed(message, facts)
    return results


def _dispatch_claimed(message: Message, facts: SuppressionFacts | None) -> str:
    channel = message.channel
    reason = suppression_reason_for(
        channel=channel,
        address=message.to_address,
        patient=message.patient,
        kind=message.kind,
        purpose=message.purpose,
        facts=facts,
    )
    if reason:
        _finish(message, MessageState.SUPPRESSED, suppression_reason=reason)
        return MessageState.SUPPRESSED
    wait = queue.rate_slot_wait(channel)
    if wait > MAX_RATE_WAIT_SECONDS:
        Message.objects.filter(pk=message.pk, state=MessageState.SENDING).update(
            state=MessageState.QUEUED,
            due_at=timezone.now() + timedelta(seconds=wait),
            attempts=F("attempts") - 1,
            enqueued_at=None,
        )
        return MessageState.QUEUED
    if wait:
        time_module.sleep(wait)
    if message.error_message.startswith(AMBIGUOUS_MARK):
        # The last attempt may have reached the provider and asking then failed too: ask again first.
        found = message_find_sent(message, since=message.created_at)
        if found:
            message_mark_sent(message, found)
            return MessageState.SENT
    try:
        result = channel.type.send(channel, message)
    except ProviderError as error:
        return _after_provider_error(message, error)
    message_mark_sent(message, result.provider_message_id, state=result.state)
    return MessageState.SENT


def _finish(message: Message, state: str, **fields: Any) -> None:
    now = timezone.now()
    finished = Message.objects.filter(pk=message.pk, state=MessageState.SENDING).update(
        state=state, finished_at=now, **fields
    )
    if finished and state in (MessageState.FAILED, MessageState.SUPPRESSED):
        # The inbox list shows the failed text (and filters on it): its poll must see a change, and the row
        # facts change with it (a suppressed text no longer counts as the latest or as staff waiting).
        Conversation.objects.filter(pk=message.conversation_id).update(updated_at=now, **conversation_facts())


def _after_provider_error(message: Message, error: ProviderError) -> str:
    code, text = error.code[:20], str(error)[:300]
    if error.ambiguous:
        found = message_find_sent(message)
        if found:
            message_mark_sent(message, found)
            return MessageState.SENT
    if error.permanent:
        number_facts_record(message, opted_out=error.opted_out, landline=error.landline, code=code)
        _finish(message, MessageState.FAILED, error_code=code, error_message=text)
        return MessageState.FAILED
    if message.attempts >= min(settings.CARELINE_SEND_MAX_ATTEMPTS, message.channel.type.max_attempts):
        _finish(
            message,
            MessageState.FAILED,
            error_code=code,
            error_message=f"gave up after {message.attempts} attempts: {text}",
        )
        return MessageState.FAILED
    Message.objects.filter(pk=message.pk, state=MessageState.SENDING).update(
        state=MessageState.QUEUED,
        due_at=timezone.now() + backoff(message.attempts),
        enqueued_at=None,
        error_code=code,
        error_message=(AMBIGUOUS_MARK + text)[:300] if error.ambiguous else text,
    )
    return MessageState.QUEUED
