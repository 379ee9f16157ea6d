"""What the provider says about a message: accepted (SENT), delivery reports, and what it teaches about numbers.

Status only ever moves forward (STATE_RANK); terminal states never change. When an attempt ended ambiguously
(a timeout after the provider may have accepted it), the channel type is asked whether the provider already
has the message (`message_find_sent`) before anything is sent again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from careline.core.actor import UNNAMED_JOB, Actor
from careline.messaging.channels.base import ProviderError
from careline.messaging.conversation_facts import conversation_facts
from careline.messaging.models import (
    STATE_RANK,
    TERMINAL_STATES,
    Channel,
    Conversation,
    Message,
    MessageState,
)
from careline.patients.models import PatientPhone, PhoneKind

# Marks a retry whose last attempt ended ambiguously (a timeout): the next attempt asks the provider first.
AMBIGUOUS_MARK = "[may have been sent] "


def message_mark_sent(message: Message, provider_message_id: str, *, state: str = MessageState.SENT) -> None:
    """Record the provider's id and move SENDING -> SENT (a callback may already have moved it further)."""
    now = timezone.now()
    # A type that delivers by storing (the portal) reports DELIVERED at once: its times are set with it.
    delivered = {"delivered_at": now, "finished_at": now} if state == MessageState.DELIVERED else {}
    # The usual case in one statement: nothing (no early callback, no sweep) has touched the row.
    if Message.objects.filter(
        pk=message.pk, state=MessageState.SENDING, provider_message_id__isnull=True, sent_at__isnull=True
    ).update(
        state=state,
        provider_message_id=provider_message_id,
        sent_at=now,
        error_code="",
        error_message="",
        **delivered,
    ):
        return
    Message.objects.filter(pk=message.pk, provider_message_id__isnull=True).update(
        provider_message_id=provider_message_id
    )
    Message.objects.filter(pk=message.pk, sent_at__isnull=True).update(sent_at=now)
    Message.objects.filter(pk=message.pk, state__in=[MessageState.SENDING, MessageState.QUEUED]).update(
        state=state, error_code="", error_message="", **delivered
    )


def message_find_sent(message: Message, *, since: datetime | None = None) -> str | None:
    """The provider's id for MESSAGE when the provider already accepted it (ambiguous attempts)."""
    since = since or message.claimed_at or message.created_at
    try:
        return message.channel.type.find_sent(message.channel, message, since=since)
    except ProviderError:
        return None


def number_facts_record(message: Message, *, opted_out: bool, landline: bool, code: str) -> None:
    """What a provider's permanent error teaches about the number: an opt-out (ledger) or a landline."""
    from careline.patients.models import ConsentKind, ConsentMethod
    from careline.patients.services.registry import consent_record

    if opted_out:
        consent_record(
            phone_number=message.to_address,
            kind=ConsentKind.REVOKED,
            method=ConsentMethod.PROVIDER,
            patient=message.patient,
            actor=Actor.system(UNNAMED_JOB),  # no one named in the entry, as before
            note=f"provider reported the recipient unsubscribed ({code})",
        )
    if landline:
        PatientPhone.objects.filter(number=message.to_address).update(kind=PhoneKind.LANDLINE)


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
            number_facts_record(message, opted_out=opted_out, landline=landline, code=error_code)
    changed = bool(rows.filter(state__in=lower).exclude(state__in=TERMINAL_STATES).update(**fields))
    if changed and state in (MessageState.FAILED, MessageState.UNDELIVERED):
        # The inbox list shows a failed delivery (and filters on it): its poll must see a change.
        Conversation.objects.filter(pk__in=rows.values("conversation_id")).update(
            updated_at=now, **conversation_facts()
        )
    return changed
