"""Composing outbound messages: checked rows (or a reason they are suppressed), one per idempotency key.

Every text or email is a row before anything leaves: `message_send` stores it QUEUED (or SUPPRESSED with
a reason, or QUEUED with a `due_at` when held for quiet hours or scheduled) and its send task goes out
after commit. A message that has not gone yet can be cancelled, withdrawn with its subject, or rescheduled.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from careline.core.actor import Actor
from careline.messaging.conversation_facts import conversation_facts
from careline.messaging.models import Channel, Conversation, Message, MessageKind, MessageState
from careline.messaging.outbound import queue
from careline.messaging.outbound.policy import hold_until, patient_sms_number, suppression_reason_for
from careline.messaging.segments import segment_info
from careline.patients.models import Patient, Purpose


class MessageRefused(ValueError):
    """The message cannot be created as asked (empty, too long, no channel); nothing was stored."""


# --- creating messages ----------------------------------------------------------------------------------


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


def due_and_held(
    *,
    reason: str,
    kind: str,
    urgent: bool,
    conversation: Conversation,
    patient: Patient | None,
    due_at: datetime | None,
    now: datetime,
    channel: Channel | None = None,
) -> tuple[datetime | None, bool]:
    """When a message is due (DUE_AT, its scheduled time, or later when quiet hours hold it) and whether quiet
    hours hold it; a message suppressed for REASON is never held. CHANNEL: the conversation's."""
    if reason:
        return due_at, False
    release = hold_until(
        kind=kind,
        urgent=urgent,
        conversation=conversation,
        patient=patient,
        now=due_at or now,
        channel=channel,
    )
    return (release, True) if release is not None else (due_at, False)


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
    sensitive: bool = False,
) -> Message:
    """Create an outbound message (or return the one already made under IDEMPOTENCY_KEY) and queue it.

    SUBJECT_KEY names what the message is about ("appointment:12"), so it can be withdrawn while it waits.
    SENSITIVE (a one-time code, a private link) keeps its text from every staff page and the API.
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
    reason = suppression_reason_for(
        channel=channel, address=address, patient=patient, kind=kind, purpose=purpose
    )
    with transaction.atomic():
        conversation = conversation_for(channel=channel, contact=address or "(none)", patient=patient)
        due_at, held = due_and_held(
            reason=reason,
            kind=kind,
            urgent=urgent,
            conversation=conversation,
            patient=patient,
            due_at=send_at if send_at and send_at > now else None,
            now=now,
            channel=channel,
        )
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
        fields["sensitive"] = sensitive
        if idempotency_key:
            try:
                with transaction.atomic():  # a savepoint only where a duplicate key is expected
                    message = Message.objects.create(**fields)
            except IntegrityError:
                return Message.objects.get(idempotency_key=idempotency_key)
        else:
            message = Message.objects.create(**fields)
        # The row facts (waiting on the patient, last text failed, opted out) in the same UPDATE.
        Conversation.objects.filter(pk=conversation.pk).update(
            last_message_at=now, updated_at=now, **conversation_facts()
        )
        if message.state == MessageState.QUEUED and due_at is None:
            message_id = message.pk
            transaction.on_commit(lambda: queue.messages_enqueue([message_id]))
    return message


def staff_reply_outlook(
    *, conversation: Conversation, now: datetime | None = None
) -> tuple[str, datetime | None]:
    """What would become of a staff reply in CONVERSATION sent NOW, before it is written: (the suppression
    reason, '' when none; when quiet hours would release it, None when it would go now). The same checks
    `message_send` makes."""
    now = now or timezone.now()
    channel = conversation.channel
    patient = conversation.patient
    address = recipient_address(channel=channel, patient=patient, to_address=conversation.contact)
    reason = suppression_reason_for(
        channel=channel, address=address, patient=patient, kind=MessageKind.STAFF, purpose=Purpose.GENERAL
    )
    if reason:
        return reason, None
    return "", hold_until(
        kind=MessageKind.STAFF,
        urgent=False,
        conversation=conversation,
        patient=patient,
        now=now,
        channel=channel,
    )


# --- messages that have not gone yet ----------------------------------------------------------------------


def message_cancel(*, message: Message, actor: Actor) -> bool:
    """Cancel a message that has not gone yet (a scheduled message, or one held for quiet hours)."""
    now = timezone.now()
    with transaction.atomic():
        cancelled = Message.objects.filter(pk=message.pk, state=MessageState.QUEUED).update(
            state=MessageState.CANCELLED, finished_at=now
        )
        if cancelled:
            # A cancelled text no longer counts as the latest one or as staff waiting on the patient.
            Conversation.objects.filter(pk=message.conversation_id).update(
                updated_at=now, **conversation_facts()
            )
    return bool(cancelled)


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
            now = timezone.now()
            Message.objects.filter(pk__in=ids, state=MessageState.QUEUED).update(
                state=MessageState.CANCELLED, finished_at=now, error_message=reason[:300]
            )
            conversations = Message.objects.filter(pk__in=ids).values("conversation_id")
            Conversation.objects.filter(pk__in=conversations).update(updated_at=now, **conversation_facts())
    return ids


def message_reschedule(*, message: Message, body: str, send_at: datetime, actor: Actor) -> bool:
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
