"""The one outbound path: every text or email is a row first, then claimed and sent by a worker.

Life of a message:
  message_send()      -> row QUEUED (or SUPPRESSED with a reason), task enqueued after commit
  message_dispatch()  -> claims QUEUED -> SENDING with a conditional UPDATE (one worker wins), re-checks
                         consent, waits for a rate slot, calls the channel type
                      -> SENT with the provider id; or QUEUED again with `due_at` = backoff (temporary
                         error); or FAILED (permanent error, or out of attempts)
  status callbacks    -> only ever move a message forward (STATE_RANK); terminal states never change
  many at once        -> inside messages_enqueue_batched() tasks carry up to DISPATCH_BATCH ids; a batch is
                         claimed in one transaction and a message waiting its turn renews its claim
  messages_sweep()    -> re-enqueues due rows (retries, quiet hours, scheduled, lost tasks) and recovers
                         rows stuck in SENDING after a worker died

The ambiguous case: a worker dies, or the provider times out, after the provider accepted the message
but before the row says SENT. Such a row is resolved by asking the channel type whether the provider
already has the message (`find_sent`); when the type cannot tell, the retry is marked and asks
again before it posts; only when the provider still cannot tell is the message sent again (at least
once), so a duplicate is possible only in that window.
"""

from __future__ import annotations

import logging
import random
import threading
import time as time_module
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from careline.messaging.channels.base import ProviderError
from careline.messaging.models import (
    STATE_RANK,
    TERMINAL_STATES,
    Channel,
    Conversation,
    Message,
    MessageKind,
    MessageState,
    RateSlot,
    SuppressionReason,
)
from careline.messaging.quiet_hours import texting_window, window_release_at
from careline.messaging.segments import segment_info
from careline.messaging.subjects import subjects_stale
from careline.patients.models import Patient, PatientPhone, PhoneKind, Purpose

logger = logging.getLogger(__name__)

ACTIVE_CONVERSATION = timedelta(hours=2)  # staff replies to a patient texting within this are never held
SENDING_TIMEOUT = timedelta(seconds=settings.CARELINE_SENDING_TIMEOUT_SECONDS)  # then its worker is gone
LOST_TASK_AFTER = timedelta(minutes=2)  # a due row not claimed this long after enqueueing lost its task
MAX_RATE_WAIT_SECONDS = 1.0
SWEEP_BATCH = 1000
# Marks a retry whose last attempt ended ambiguously (a timeout): the next attempt asks the provider first.
AMBIGUOUS_MARK = "[may have been sent] "
DISPATCH_BATCH = 50  # messages per send task when many are queued at once
AUTOMATED_KINDS = frozenset({MessageKind.AUTOMATED, MessageKind.ANNOUNCEMENT})


class MessageRefused(ValueError):
    """The message cannot be created as asked (empty, too long, no channel); nothing was stored."""


# --- creating messages ----------------------------------------------------------------------------------


def patient_sms_number(patient: Patient) -> str | None:
    """The number to text PATIENT at: the primary mobile, else any mobile, else the primary number."""
    phones = sorted(patient.phones.all(), key=lambda p: (p.kind != PhoneKind.MOBILE, not p.is_primary, p.id))
    return phones[0].number if phones else None


def message_body_checked(body: str, *, media: Sequence[dict[str, str]] = ()) -> str:
    """BODY stripped; MessageRefused when it is empty (and no media) or too long."""
    body = (body or "").strip()
    if not body and not media:
        raise MessageRefused("Write a message first.")
    if len(body) > settings.CARELINE_MAX_MESSAGE_LENGTH:
        raise MessageRefused(f"Messages are limited to {settings.CARELINE_MAX_MESSAGE_LENGTH} characters.")
    return body


def recipient_address(*, channel: Channel, patient: Patient | None, to_address: str | None) -> str:
    """Where a message on CHANNEL goes: TO_ADDRESS, else the patient's email or texting number ('' if none)."""
    is_email = "email" in channel.type.capabilities
    return (
        to_address
        or (patient.email if is_email and patient else (patient_sms_number(patient) if patient else None))
        or ""
    )


def message_fields(
    *,
    conversation: Conversation,
    channel: Channel,
    patient: Patient | None,
    kind: str,
    purpose: str,
    address: str,
    subject: str,
    body: str,
    media: Sequence[dict[str, str]],
    reason: str,
    idempotency_key: str | None,
    urgent: bool,
    send_at: datetime | None,
    held: bool,
    due_at: datetime | None,
    author: Any,
    announcement_id: int | None,
    now: datetime,
    subject_key: str = "",
) -> dict[str, Any]:
    """The column values of a new outbound message (shared by message_send and messages_send_bulk)."""
    info = segment_info(body)
    return {
        "conversation": conversation,
        "channel": channel,
        "patient": patient or conversation.patient,
        "direction": Message.Direction.OUTBOUND,
        "kind": kind,
        "purpose": purpose,
        "to_address": address,
        "from_address": channel.address,
        "subject": subject,
        "body": body,
        "media": list(media),
        "state": MessageState.SUPPRESSED if reason else MessageState.QUEUED,
        "suppression_reason": reason,
        "idempotency_key": idempotency_key or None,
        "subject_key": subject_key,
        "urgent": urgent,
        "scheduled": bool(send_at and send_at > now),
        "held_for_quiet_hours": held,
        "due_at": due_at,
        "enqueued_at": now if not reason and due_at is None else None,
        "author": author,
        "announcement_id": announcement_id,
        "segments": info.segments,
        "encoding": info.encoding,
        "finished_at": now if reason else None,
    }


def suppression_reason_for(
    *,
    channel: Channel,
    address: str,
    patient: Patient | None,
    kind: str,
    facts: SuppressionFacts | None = None,
) -> str:
    """Why a message to ADDRESS must not be sent now ('' when it may). Checked at creation and before sending.

    FACTS, when given, holds the landline and consent look-ups of a whole batch (made in two queries).
    """
    from careline.patients.services.registry import CONSENT_GIVEN, CONSENT_REVOKED, consent_state

    if not channel.is_active:
        return SuppressionReason.CHANNEL_DISABLED
    if not address:
        return SuppressionReason.NO_CONTACT
    if patient is not None and patient.is_deceased:
        return SuppressionReason.DECEASED
    if kind == MessageKind.KEYWORD_REPLY:
        return ""  # the law requires the opt-out confirmation itself
    if patient is not None and patient.confidential_communications:
        return SuppressionReason.CONFIDENTIAL
    if "sms" not in channel.type.capabilities:
        return ""
    if not address.startswith("+"):
        return SuppressionReason.INVALID_NUMBER
    if facts is not None and address in facts.consent:
        is_landline, state = address in facts.landlines, facts.consent[address]
    else:
        is_landline = PatientPhone.objects.filter(number=address, kind=PhoneKind.LANDLINE).exists() and not (
            PatientPhone.objects.filter(number=address).exclude(kind=PhoneKind.LANDLINE).exists()
        )
        state = "" if is_landline else consent_state(address)
    if is_landline:
        return SuppressionReason.LANDLINE
    if state == CONSENT_REVOKED:
        return SuppressionReason.OPTED_OUT
    if kind in AUTOMATED_KINDS and state != CONSENT_GIVEN:
        return SuppressionReason.NO_CONSENT
    return ""


@dataclass(frozen=True)
class SuppressionFacts:
    """Landline numbers and consent states of a batch of addresses, looked up together."""

    landlines: frozenset[str]
    consent: dict[str, str]

    @classmethod
    def load(cls, addresses: Sequence[str]) -> SuppressionFacts:
        """The facts for ADDRESSES in two queries (phone numbers only; other addresses are skipped)."""
        from careline.patients.services.registry import consent_states

        numbers = sorted({address for address in addresses if address.startswith("+")})
        if not numbers:
            return cls(frozenset(), {})
        kinds: dict[str, set[str]] = {}
        for number, phone_kind in PatientPhone.objects.filter(number__in=numbers).values_list(
            "number", "kind"
        ):
            kinds.setdefault(number, set()).add(phone_kind)
        landlines = frozenset(number for number, found in kinds.items() if found == {PhoneKind.LANDLINE})
        return cls(landlines, consent_states(numbers))


def conversation_for(*, channel: Channel, contact: str, patient: Patient | None) -> Conversation:
    """The conversation with CONTACT on CHANNEL, created on first use; links PATIENT when known."""
    conversation, created = Conversation.objects.get_or_create(
        channel=channel,
        contact=contact,
        defaults={"patient": patient, "location": patient.primary_location if patient else None},
    )
    if not created and patient is not None and conversation.patient_id is None:
        Conversation.objects.filter(pk=conversation.pk, patient__isnull=True).update(
            patient=patient, location=patient.primary_location
        )
        conversation.refresh_from_db()
    return conversation


def hold_until(
    *, kind: str, urgent: bool, conversation: Conversation, patient: Patient | None, now: datetime
) -> datetime | None:
    """When quiet hours release this message; None when it may go now."""
    if urgent or kind == MessageKind.KEYWORD_REPLY or kind == MessageKind.AUTO_REPLY:
        return None
    if (
        kind == MessageKind.STAFF
        and conversation.last_inbound_at
        and now - conversation.last_inbound_at < ACTIVE_CONVERSATION
    ):
        return None
    location = patient.primary_location if patient else conversation.location
    zone = patient.zone if patient else (location.zone if location else timezone.get_default_timezone())
    return window_release_at(now, zone, texting_window(location))


def message_send(
    *,
    body: str,
    patient: Patient | None = None,
    to_address: str | None = None,
    channel: Channel | None = None,
    kind: str = MessageKind.STAFF,
    purpose: str = Purpose.GENERAL,
    author: Any = None,
    idempotency_key: str | None = None,
    urgent: bool = False,
    send_at: datetime | None = None,
    subject: str = "",
    media: Sequence[dict[str, str]] = (),
    announcement_id: int | None = None,
    subject_key: str = "",
) -> Message:
    """Create an outbound message (or return the one already made under IDEMPOTENCY_KEY) and queue it.

    SUBJECT_KEY names what the message is about ("appointment:12"), so it can be withdrawn while it waits.
    """
    from careline.messaging.services.channels import channel_default

    if idempotency_key:
        existing = Message.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    body = message_body_checked(body, media=media)
    channel = channel or channel_default("sms")
    if channel is None:
        raise MessageRefused("No channel is configured for texts.")
    address = recipient_address(channel=channel, patient=patient, to_address=to_address)
    now = timezone.now()
    reason = suppression_reason_for(channel=channel, address=address, patient=patient, kind=kind)
    with transaction.atomic():
        conversation = conversation_for(channel=channel, contact=address or "(none)", patient=patient)
        due_at = send_at if send_at and send_at > now else None
        held = False
        if not reason:
            release = hold_until(
                kind=kind, urgent=urgent, conversation=conversation, patient=patient, now=due_at or now
            )
            if release is not None:
                due_at, held = release, True
        fields = message_fields(
            conversation=conversation,
            channel=channel,
            patient=patient,
            kind=kind,
            purpose=purpose,
            address=address,
            subject=subject,
            body=body,
            media=media,
            reason=reason,
            idempotency_key=idempotency_key,
            urgent=urgent,
            send_at=send_at,
            held=held,
            due_at=due_at,
            author=author,
            announcement_id=announcement_id,
            now=now,
            subject_key=subject_key,
        )
        if idempotency_key:
            try:
                with transaction.atomic():  # a savepoint only where a duplicate key is expected
                    message = Message.objects.create(**fields)
            except IntegrityError:
                return Message.objects.get(idempotency_key=idempotency_key)
        else:
            message = Message.objects.create(**fields)
        Conversation.objects.filter(pk=conversation.pk).update(last_message_at=now)
        if message.state == MessageState.QUEUED and due_at is None:
            message_id = message.pk
            transaction.on_commit(lambda: _enqueue([message_id]))
    return message


def _enqueue(message_ids: Sequence[int]) -> None:
    from careline.messaging.tasks import dispatch_message, dispatch_messages

    batches = getattr(_batching, "ids", None)
    if batches is not None:
        batches.extend(message_ids)  # sent when the messages_enqueue_batched() block ends
        return
    ids = list(message_ids)
    if len(ids) == 1:
        dispatch_message.delay(ids[0])
        return
    for start in range(0, len(ids), DISPATCH_BATCH):
        dispatch_messages.delay(ids[start : start + DISPATCH_BATCH])


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
            _enqueue(ids)


# --- sending -----------------------------------------------------------------------------------------------


def message_claim(message_id: int, *, now: datetime | None = None) -> bool:
    """Move a due QUEUED message to SENDING; True for the one caller that wins."""
    now = now or timezone.now()
    return bool(
        Message.objects.filter(pk=message_id, state=MessageState.QUEUED)
        .filter(Q(due_at__isnull=True) | Q(due_at__lte=now))
        .update(state=MessageState.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )


def rate_slot_wait(channel: Channel, *, now: datetime | None = None) -> float:
    """Take the channel's next send slot; the seconds to wait for it (0 when the channel has no limit).

    One conditional UPDATE on a shared row, so the rate holds across every worker on every host.
    """
    if not channel.rate_per_second:
        return 0.0
    interval = timedelta(seconds=1.0 / channel.rate_per_second)
    now = now or timezone.now()
    RateSlot.objects.get_or_create(channel=channel, defaults={"next_at": now})
    with transaction.atomic():
        slot = RateSlot.objects.select_for_update().get(channel=channel)
        start = max(slot.next_at, now)
        slot.next_at = start + interval
        slot.save(update_fields=["next_at"])
    return max(0.0, (start - now).total_seconds())


def _backoff(attempt: int) -> timedelta:
    """Exponential backoff with jitter: 5-10 s, 10-20 s, 20-40 s ... (CARELINE_RETRY_BACKOFF_MS), at most 30 min."""
    base = settings.CARELINE_RETRY_BACKOFF_MS / 1000
    ceiling = min(base * 2 ** max(0, attempt - 1), 1800)
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))


def message_dispatch(message_id: int) -> str:
    """Send one message if it is due and nobody else is sending it; returns the state it ended in."""
    return messages_dispatch([message_id])[message_id]


def _claim_many(message_ids: Sequence[int], now: datetime) -> list[int]:
    """Claim the due QUEUED messages among MESSAGE_IDS (one transaction); the ids this caller won."""
    if len(message_ids) == 1:
        return list(message_ids) if message_claim(message_ids[0], now=now) else []
    with transaction.atomic():
        # Locked rows are another worker's claim in progress: skipped; once it commits they are SENDING.
        won = list(
            Message.objects.select_for_update(skip_locked=True)
            .filter(pk__in=list(message_ids), state=MessageState.QUEUED)
            .filter(Q(due_at__isnull=True) | Q(due_at__lte=now))
            .values_list("pk", flat=True)
        )
        if won:
            Message.objects.filter(pk__in=won).update(
                state=MessageState.SENDING, claimed_at=now, attempts=F("attempts") + 1
            )
    return won


def messages_dispatch(message_ids: Sequence[int]) -> dict[int, str]:
    """Send each of MESSAGE_IDS that is due and not being sent by anyone else; the state each ended in.

    A batch is claimed in one transaction and its consent and landline facts are read in two queries;
    a message still waiting its turn in a long batch renews its claim, so the sweep never takes it over.
    """
    results = dict.fromkeys(message_ids, "not-claimed")
    now = timezone.now()
    claimed = _claim_many(message_ids, now)
    if not claimed:
        return results
    messages = list(
        Message.objects.select_related("channel", "patient").filter(pk__in=claimed).order_by("pk")
    )
    facts = SuppressionFacts.load([message.to_address for message in messages]) if len(messages) > 1 else None
    # What a message is about may have changed while it waited (a visit moved): asked just before sending.
    stale = subjects_stale(messages)
    renew_after = SENDING_TIMEOUT.total_seconds() / 3
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
        channel=channel, address=message.to_address, patient=message.patient, kind=message.kind, facts=facts
    )
    if reason:
        _finish(message, MessageState.SUPPRESSED, suppression_reason=reason)
        return MessageState.SUPPRESSED
    wait = rate_slot_wait(channel)
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
        found = _find_sent(message, since=message.created_at)
        if found:
            message_mark_sent(message, found)
            return MessageState.SENT
    try:
        result = channel.type.send(channel, message)
    except ProviderError as error:
        return _after_provider_error(message, error)
    message_mark_sent(message, result.provider_message_id, state=result.state)
    return MessageState.SENT


def message_mark_sent(message: Message, provider_message_id: str, *, state: str = MessageState.SENT) -> None:
    """Record the provider's id and move SENDING -> SENT (a callback may already have moved it further)."""
    now = timezone.now()
    # The usual case in one statement: nothing (no early callback, no sweep) has touched the row.
    if Message.objects.filter(
        pk=message.pk, state=MessageState.SENDING, provider_message_id__isnull=True, sent_at__isnull=True
    ).update(
        state=state, provider_message_id=provider_message_id, sent_at=now, error_code="", error_message=""
    ):
        return
    Message.objects.filter(pk=message.pk, provider_message_id__isnull=True).update(
        provider_message_id=provider_message_id
    )
    Message.objects.filter(pk=message.pk, sent_at__isnull=True).update(sent_at=now)
    Message.objects.filter(pk=message.pk, state__in=[MessageState.SENDING, MessageState.QUEUED]).update(
        state=state, error_code="", error_message=""
    )


def _finish(message: Message, state: str, **fields: Any) -> None:
    Message.objects.filter(pk=message.pk, state=MessageState.SENDING).update(
        state=state, finished_at=timezone.now(), **fields
    )


def _after_provider_error(message: Message, error: ProviderError) -> str:
    code, text = error.code[:20], str(error)[:300]
    if error.ambiguous:
        found = _find_sent(message)
        if found:
            message_mark_sent(message, found)
            return MessageState.SENT
    if error.permanent:
        _record_number_facts(message, opted_out=error.opted_out, landline=error.landline, code=code)
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
        due_at=timezone.now() + _backoff(message.attempts),
        enqueued_at=None,
        error_code=code,
        error_message=(AMBIGUOUS_MARK + text)[:300] if error.ambiguous else text,
    )
    return MessageState.QUEUED


def _record_number_facts(message: Message, *, opted_out: bool, landline: bool, code: str) -> None:
    """What a provider's permanent error teaches about the number: an opt-out (ledger) or a landline."""
    from careline.patients.models import ConsentKind, ConsentMethod
    from careline.patients.services.registry import consent_record

    if opted_out:
        consent_record(
            phone_number=message.to_address,
            kind=ConsentKind.REVOKED,
            method=ConsentMethod.PROVIDER,
            patient=message.patient,
            recorded_by=None,
            note=f"provider reported the recipient unsubscribed ({code})",
        )
    if landline:
        PatientPhone.objects.filter(number=message.to_address).update(kind=PhoneKind.LANDLINE)


def _find_sent(message: Message, *, since: datetime | None = None) -> str | None:
    """The provider's id for MESSAGE when the provider already accepted it (ambiguous attempts)."""
    since = since or message.claimed_at or message.created_at
    try:
        return message.channel.type.find_sent(message.channel, message, since=since)
    except ProviderError:
        return None


# --- delivery status ------------------------------------------------------------------------------------


def message_status_apply(
    *,
    channel: Channel,
    provider_message_id: str,
    state: str,
    error_code: str = "",
    error_message: str = "",
    message_id: int | None = None,
    opted_out: bool = False,
    landline: bool = False,
) -> bool:
    """Apply a delivery report in any order: only a move forward counts; True when the row changed.

    A report that the recipient unsubscribed or is a landline is recorded whatever the order.
    """
    if state not in STATE_RANK:
        return False
    target = MessageState(state)
    lower = [s for s, rank in STATE_RANK.items() if rank < STATE_RANK[target]]
    rows = Message.objects.filter(channel=channel, direction=Message.Direction.OUTBOUND)
    rows = rows.filter(pk=message_id) if message_id else rows.filter(provider_message_id=provider_message_id)
    if message_id and provider_message_id:
        rows.filter(provider_message_id__isnull=True).update(provider_message_id=provider_message_id)
    now = timezone.now()
    fields: dict[str, Any] = {"state": state}
    if state == MessageState.DELIVERED:
        fields["delivered_at"] = now
    if STATE_RANK[target] == 3:
        fields["finished_at"] = now
    if error_code:
        fields["error_code"] = error_code[:20]
        fields["error_message"] = error_message[:300]
    if state in (MessageState.SENT, MessageState.DELIVERED):
        rows.filter(sent_at__isnull=True).update(sent_at=now)
    if opted_out or landline:
        message = rows.first()
        if message is not None:
            _record_number_facts(message, opted_out=opted_out, landline=landline, code=error_code)
    return bool(rows.filter(state__in=lower).exclude(state__in=TERMINAL_STATES).update(**fields))


# --- sweeping ---------------------------------------------------------------------------------------------


def messages_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Enqueue due messages and recover ones whose worker died; safe to run on many hosts at once."""
    now = now or timezone.now()
    stuck = list(
        Message.objects.filter(state=MessageState.SENDING, claimed_at__lt=now - SENDING_TIMEOUT).values_list(
            "pk", flat=True
        )[:SWEEP_BATCH]
    )
    recovered = 0
    for message_id in stuck:
        message = Message.objects.select_related("channel").get(pk=message_id)
        found = _find_sent(message)
        if found:
            message_mark_sent(message, found)
        else:
            recovered += Message.objects.filter(
                pk=message_id, state=MessageState.SENDING, claimed_at__lt=now - SENDING_TIMEOUT
            ).update(
                state=MessageState.QUEUED,
                due_at=now,
                enqueued_at=None,
                error_message=AMBIGUOUS_MARK + "the worker stopped while sending",
            )
    due_rows = (
        Message.objects.filter(state=MessageState.QUEUED)
        .filter(Q(due_at__isnull=True) | Q(due_at__lte=now))
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - LOST_TASK_AFTER))
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
    _enqueue(due)
    from careline.messaging.services.inbound import inbound_requeue

    # Inbound texts stored by a webhook whose processing task was lost (a crash before it ran).
    inbound = inbound_requeue(now=now)
    return {"enqueued": len(due), "recovered": recovered, "inbound": inbound}


def message_cancel(*, message: Message, actor: Any) -> bool:
    """Cancel a message that has not gone yet (a scheduled message, or one held for quiet hours)."""
    return bool(
        Message.objects.filter(pk=message.pk, state=MessageState.QUEUED).update(
            state=MessageState.CANCELLED, finished_at=timezone.now()
        )
    )


def messages_withdraw_for_subject(*, subject_key: str, reason: str) -> list[int]:
    """Withdraw (cancel) every message about SUBJECT_KEY that has not gone yet; the ids withdrawn.

    Queued, held for quiet hours, scheduled or waiting for a retry: all become CANCELLED with REASON. A
    message already being sent is caught by the re-check just before sending (subjects_stale).
    """
    if not subject_key:
        return []
    with transaction.atomic():
        ids = list(
            Message.objects.filter(
                subject_key=subject_key, direction=Message.Direction.OUTBOUND, state=MessageState.QUEUED
            ).values_list("pk", flat=True)
        )
        if ids:
            Message.objects.filter(pk__in=ids, state=MessageState.QUEUED).update(
                state=MessageState.CANCELLED, finished_at=timezone.now(), error_message=reason[:300]
            )
    return ids


def message_reschedule(*, message: Message, body: str, send_at: datetime, actor: Any) -> bool:
    """Change the text or time of a scheduled message that has not gone yet."""
    body = (body or "").strip()
    if not body:
        raise MessageRefused("Write a message first.")
    if len(body) > settings.CARELINE_MAX_MESSAGE_LENGTH:
        raise MessageRefused(f"Messages are limited to {settings.CARELINE_MAX_MESSAGE_LENGTH} characters.")
    info = segment_info(body)
    return bool(
        Message.objects.filter(pk=message.pk, state=MessageState.QUEUED, scheduled=True).update(
            body=body,
            due_at=max(send_at, timezone.now()),
            enqueued_at=None,
            segments=info.segments,
            encoding=info.encoding,
        )
    )
