"""Sending claimed messages: re-check the policy, take a rate slot, call the channel type, record the result.

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

from careline.core.rowcopy import rows_update
from careline.messaging.channels.base import LATE_FOR_SLOT, ProviderError, SendJob, SendResult
from careline.messaging.conversation_facts import conversation_facts
from careline.messaging.models import Conversation, Message, MessageState
from careline.messaging.outbound import queue
from careline.messaging.outbound.policy import SuppressionFacts, purpose_needs_consent, suppression_reason_for
from careline.messaging.outbound.ratelimit import rate_slots_take
from careline.messaging.outbound.status import (
    AMBIGUOUS_MARK,
    message_find_sent,
    message_mark_sent,
    number_facts_record,
)
from careline.messaging.subjects import subjects_stale

MAX_RATE_WAIT_SECONDS = 1.0
RATE_LIMITED_WAIT_SECONDS = 1.0  # after a provider's 429, one to two seconds
LATE_ROUNDS = 3  # rounds of new slots for sends that went late before the rest go back to the queue


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

    A batch is claimed in one transaction and its consent and landline facts are read in two queries.
    Each message is checked (subject, policy) and given its send slot under its rate limits first; then
    the channel type sends the batch's messages, each at its slot (an asynchronous type keeps many
    requests in flight), and the sent ones are recorded in one UPDATE.
    """
    results = dict.fromkeys(message_ids, "not-claimed")
    now = timezone.now()
    claimed = queue.messages_claim(message_ids, now)
    if not claimed:
        return results
    messages = list(
        Message.objects.select_related("channel", "patient").filter(pk__any_of=claimed).order_by("pk")
    )
    results.update(messages_dispatch_claimed(messages))
    return results


def messages_dispatch_claimed(messages: Sequence[Message]) -> dict[int, str]:
    """Send MESSAGES, claimed by this caller already (SENDING; their channel and patient loaded): the checks,
    slots and sending of messages_dispatch after its claim; the state each ended in.

    For a task that made the messages claimed itself (`messages_send_bulk(claimed=...)`) and committed them.
    """
    results = dict.fromkeys((message.pk for message in messages), "not-claimed")
    facts = None
    if len(messages) > 1:
        purposes = {message.purpose for message in messages if purpose_needs_consent(message.purpose)}
        facts = SuppressionFacts.load([message.to_address for message in messages], purposes=purposes)
    # What a message is about may have changed while it waited (a visit moved): asked just before sending.
    stale = subjects_stale(messages)
    claims = _Claims()
    ready: dict[int, list[Message]] = {}
    for message in messages:
        if not claims.still_claimed(message):
            continue  # taken back by a sweep: no longer this worker's to send
        if message.pk in stale:
            _finish(message, MessageState.CANCELLED, error_message=stale[message.pk][:300])
            results[message.pk] = MessageState.CANCELLED
            continue
        outcome = _prepare(message, facts)
        if outcome:
            results[message.pk] = outcome
        else:
            ready.setdefault(message.channel_id, []).append(message)
    for channel_messages in ready.values():
        results.update(_send_channel_messages(channel_messages, claims))
    return results


class _Claims:
    """Keeps a long batch's claims: once a third of SENDING_TIMEOUT has passed, a message's claim is renewed
    before it is worked on (so the sweep never takes it over); False when a sweep already took it back."""

    def __init__(self) -> None:
        self.renew_after = queue.SENDING_TIMEOUT.total_seconds() / 3
        self.started = time_module.monotonic()

    def still_claimed(self, message: Message) -> bool:
        if time_module.monotonic() - self.started <= self.renew_after:
            return True
        renewed = timezone.now()
        if not Message.objects.filter(
            pk=message.pk, state=MessageState.SENDING, claimed_at=message.claimed_at
        ).update(claimed_at=renewed):
            return False
        message.claimed_at, self.started = renewed, time_module.monotonic()
        return True


def _send_channel_messages(messages: list[Message], claims: _Claims) -> dict[int, str]:
    """Send one channel's MESSAGES, each in a rate slot taken for the batch at once, and record the answers.

    Messages beyond the slots within MAX_RATE_WAIT_SECONDS go back to the queue for when the next is free;
    a send whose slot passed before it could go takes a new slot in another round.
    """
    channel = messages[0].channel
    limits = channel.type.rate_limits(channel, messages[0])  # a channel's sends share its limits
    results: dict[int, str] = {}
    if limits:
        channel.type.send_prepare(channel)
    for _ in range(LATE_ROUNDS):
        slots = rate_slots_take(limits, len(messages), max_wait=MAX_RATE_WAIT_SECONDS)
        jobs = [
            SendJob(message=message, at=at) for message, at in zip(messages, slots.deadlines, strict=False)
        ]
        for message in messages[len(jobs) :]:
            _requeue_not_attempted(message, wait=slots.refused_wait)
            results[message.pk] = MessageState.QUEUED
        if not jobs:
            return results
        outcomes = channel.type.send_many(channel, jobs, still_claimed=claims.still_claimed)
        answered: list[tuple[SendJob, SendResult | ProviderError]] = []
        messages = []
        for job, outcome in zip(jobs, outcomes, strict=True):
            if outcome is None:
                results[job.message.pk] = "not-claimed"  # a sweep took it back: its new task sends it
            elif _is_late(outcome):
                messages.append(job.message)
            else:
                answered.append((job, outcome))
        results.update(_record([job for job, _ in answered], [outcome for _, outcome in answered]))
        if not messages:
            return results
    for message in messages:  # late round after round (an overloaded worker): back to the queue for a moment
        _requeue_not_attempted(message, wait=RATE_LIMITED_WAIT_SECONDS)
        results[message.pk] = MessageState.QUEUED
    return results


def _is_late(outcome: SendResult | ProviderError | None) -> bool:
    return isinstance(outcome, ProviderError) and outcome.code == LATE_FOR_SLOT


def _prepare(message: Message, facts: SuppressionFacts | None) -> str:
    """ "" when MESSAGE may go (policy passed, no earlier attempt already reached the provider); else its state."""
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
    if message.error_message.startswith(AMBIGUOUS_MARK):
        # The last attempt may have reached the provider and asking then failed too: ask again first.
        found = message_find_sent(message, since=message.created_at)
        if found:
            message_mark_sent(message, found)
            return MessageState.SENT
    return ""


def _record(jobs: Sequence[SendJob], outcomes: Sequence[SendResult | ProviderError]) -> dict[int, str]:
    """Store what the provider answered for each job; the state each message ended in."""
    results: dict[int, str] = {}
    plain: dict[int, str] = {}
    for job, outcome in zip(jobs, outcomes, strict=True):
        message = job.message
        if isinstance(outcome, ProviderError):
            results[message.pk] = _after_provider_error(message, outcome)
        elif outcome.state == MessageState.SENT:
            plain[message.pk] = outcome.provider_message_id
            results[message.pk] = MessageState.SENT
        else:
            message_mark_sent(message, outcome.provider_message_id, state=outcome.state)
            results[message.pk] = MessageState.SENT
    if plain:
        _mark_sent_together(plain, [job.message for job in jobs if job.message.pk in plain])
    return results


def _mark_sent_together(provider_ids: dict[int, str], messages: Sequence[Message]) -> None:
    """SENDING -> SENT with each provider id in one UPDATE; a row something else touched first (an early
    callback, a sweep) goes through message_mark_sent, which merges with what is there."""
    now = timezone.now()
    updated = rows_update(
        Message,
        ("state", "provider_message_id", "sent_at", "error_code", "error_message"),
        [(pk, MessageState.SENT, sid, now, "", "") for pk, sid in provider_ids.items()],
        where={"state": MessageState.SENDING, "provider_message_id": None, "sent_at": None},
    )
    if updated == len(provider_ids):
        return
    for message in messages:
        message_mark_sent(message, provider_ids[message.pk])  # conditional: a row already marked is left


def _requeue_not_attempted(message: Message, *, wait: float, **fields: Any) -> None:
    """Back to the queue for WAIT seconds from now, not counted as an attempt (it never reached the provider)."""
    Message.objects.filter(pk=message.pk, state=MessageState.SENDING).update(
        state=MessageState.QUEUED,
        due_at=timezone.now() + timedelta(seconds=wait),
        attempts=F("attempts") - 1,
        enqueued_at=None,
        **fields,
    )


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
    if error.rate_limited:
        # The provider refused this one for its rate and kept nothing: it goes again a moment later, not
        # counted as an attempt (a mark of an earlier ambiguous attempt stays: that question is still open).
        wait = random.uniform(RATE_LIMITED_WAIT_SECONDS, 2 * RATE_LIMITED_WAIT_SECONDS)
        noted = {} if message.error_message.startswith(AMBIGUOUS_MARK) else {"error_message": text}
        _requeue_not_attempted(message, wait=wait, error_code=code, **noted)
        return MessageState.QUEUED
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
