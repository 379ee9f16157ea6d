"""Many outbound messages at once (reminders, batches): the rules of `message_send` in a few queries.

`messages_send_bulk` applies exactly what `message_send` applies — the same body check, recipient,
suppression reasons (consent, opt-out, landline, deceased, confidential, the rule of the purpose:
`suppression_reason_for` with the batch's facts loaded together), quiet hours (`due_and_held`), idempotency
keys and column values (`message_fields`) — but looks up existing keys and conversations for the whole
batch, inserts the rows at once (COPY on PostgreSQL with ids from the sequence; the conversations in
bulk_conversations.py) and queues their send tasks in batches after commit. When a key turns out to have been taken
concurrently, the batch falls back to `message_send` item by item, so the outcome is the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import IntegrityError, router, transaction
from django.utils import timezone

from careline.core.collector import collection_paused
from careline.core.rowcopy import rows_copy
from careline.locations.models import Location
from careline.messaging.models import Channel, Conversation, Message, MessageKind, MessageState
from careline.messaging.outbound import queue
from careline.messaging.outbound.bulk_conversations import batch_conversations, conversations_written
from careline.messaging.outbound.compose import (
    MessageRefused,
    due_and_held,
    message_body_checked,
    message_fields,
    message_send,
    recipient_address,
)
from careline.messaging.outbound.policy import SuppressionFacts, suppression_reason_for
from careline.patients.models import Patient, Purpose


@dataclass
class OutboundItem:
    """One message of a bulk send: its text, recipient and idempotency key."""

    body: str
    idempotency_key: str
    patient: Patient | None = None
    to_address: str | None = None
    subject: str = ""
    media: Sequence[dict[str, str]] = field(default_factory=tuple)
    subject_key: str = ""
    # A private link (a statement's pay link): staff pages show that one was sent, never its text.
    sensitive: bool = False


def _locations_loaded(patients: Iterable[Patient], conversations: Iterable[Conversation]) -> None:
    """Give PATIENTS and CONVERSATIONS their location with its texting policy, one query for all.

    Quiet hours read the location's MessagingPolicy; loaded a row at a time, that was two queries a message.
    """
    patients, conversations = list(patients), list(conversations)
    wanted = {p.primary_location_id for p in patients} | {c.location_id for c in conversations}
    wanted.discard(None)
    locations = Location.objects.select_related("messaging_policy").in_bulk(list(wanted))
    for patient in patients:
        if patient.primary_location_id in locations:
            patient.primary_location = locations[patient.primary_location_id]
    for conversation in conversations:
        if conversation.location_id in locations:
            conversation.location = locations[conversation.location_id]


# The columns messages_send_bulk writes: every concrete one but the id, in the model's order (so a stored
# row and the id make the instance the callers get, without reading it back).
MESSAGE_FIELDS = tuple(field.attname for field in Message._meta.concrete_fields if not field.primary_key)
_ID_FIRST = Message._meta.concrete_fields[0].primary_key


def _message_defaults(created_at: datetime) -> dict[str, Any]:
    """Each message column's default value (the columns message_fields does not set keep these)."""
    return {
        field.attname: created_at if getattr(field, "auto_now_add", False) else field.get_default()
        for field in Message._meta.concrete_fields
        if not field.primary_key
    }


def _messages_loaded(
    ids: list[int],
    rows: list[tuple[Any, ...]],
    related: list[tuple[Conversation, Patient | None]],
    channel: Channel,
) -> list[Message]:
    """The stored messages as instances (as bulk_create returned them: related rows attached)."""
    assert _ID_FIRST
    using = router.db_for_write(Message)
    conversation_field = Message._meta.get_field("conversation")
    channel_field = Message._meta.get_field("channel")
    patient_field = Message._meta.get_field("patient")
    names = ["id", *MESSAGE_FIELDS]
    created = []
    for pk, row, (conversation, patient) in zip(ids, rows, related, strict=True):
        message = Message.from_db(using, names, (pk, *row))
        conversation_field.set_cached_value(message, conversation)
        channel_field.set_cached_value(message, channel)
        if patient is not None:
            patient_field.set_cached_value(message, patient)
        created.append(message)
    return created


@collection_paused()  # a context manager as a decorator: each call runs with the collector paused
def messages_send_bulk(
    *,
    items: Sequence[OutboundItem],
    channel: Channel,
    kind: str = MessageKind.AUTOMATED,
    purpose: str = Purpose.GENERAL,
    urgent: bool = False,
    author: Any = None,
    announcement_id: int | None = None,
    facts: SuppressionFacts | None = None,
    claimed: list[Message] | None = None,
) -> dict[str, Message | MessageRefused]:
    """Create (or find, by key) one message per item with message_send's rules; key -> Message or refusal.

    Call inside a transaction to tie the rows to other writes; the send tasks go out after commit. FACTS: the
    suppression facts of the items' numbers when the caller loaded them already in this transaction (for
    PURPOSE); numbers they do not cover are looked up as usual.

    CLAIMED: for a caller that sends what it makes itself, after its commit, with
    `dispatch.messages_dispatch_claimed`: the messages ready to go now are written already claimed by it
    (SENDING, one attempt, as `messages_claim` leaves them) and appended to this list instead of being
    queued, which spares each message a claim's UPDATE and its reading back. If the caller stops before
    sending them, the sweep recovers them as it does any claim whose worker stopped (asking the provider
    first). Messages made one at a time (a key taken concurrently) are queued as usual.
    """
    results: dict[str, Message | MessageRefused] = {}
    existing = Message.objects.filter(idempotency_key__any_of=[item.idempotency_key for item in items])
    results.update((m.idempotency_key or "", m) for m in existing)
    todo: list[tuple[OutboundItem, str, str]] = []
    for item in items:
        if item.idempotency_key in results:
            continue
        try:
            body = message_body_checked(item.body, media=item.media)
        except MessageRefused as refused:
            results[item.idempotency_key] = refused
            continue
        address = recipient_address(channel=channel, patient=item.patient, to_address=item.to_address)
        todo.append((item, body, address))
    if not todo:
        return results
    now = timezone.now()
    if facts is None:
        facts = SuppressionFacts.load([address for _, _, address in todo], purposes=[purpose])
    contacts: dict[str, Patient | None] = {}
    for item, _, address in todo:
        contacts.setdefault(address or "(none)", item.patient)
    patients = {id(item.patient): item.patient for item, _, _ in todo if item.patient is not None}
    _locations_loaded(patients.values(), ())
    rows: list[tuple[Any, ...]] = []
    related: list[tuple[Conversation, Patient | None]] = []
    with transaction.atomic():
        conversations = batch_conversations(channel, contacts, now, consent=facts.consent)
        _locations_loaded((), conversations.values())
        defaults = _message_defaults(timezone.now())
        for item, body, address in todo:
            conversation = conversations[address or "(none)"]
            reason = suppression_reason_for(
                channel=channel,
                address=address,
                patient=item.patient,
                kind=kind,
                purpose=purpose,
                facts=facts,
            )
            due_at, held = due_and_held(
                reason=reason,
                kind=kind,
                urgent=urgent,
                conversation=conversation,
                patient=item.patient,
                due_at=None,
                now=now,
                channel=channel,
            )
            fields = message_fields(
                conversation=conversation,
                channel=channel,
                patient=item.patient,
                kind=kind,
                purpose=purpose,
                address=address,
                subject=item.subject,
                body=body,
                media=item.media,
                reason=reason,
                idempotency_key=item.idempotency_key,
                urgent=urgent,
                send_at=None,
                held=held,
                due_at=due_at,
                author=author,
                announcement_id=announcement_id,
                now=now,
                subject_key=item.subject_key,
            )
            patient = fields.pop("patient")
            related.append((conversation, patient))
            written_by = fields.pop("author")
            del fields["conversation"], fields["channel"]
            values = defaults | fields
            values["conversation_id"], values["channel_id"] = conversation.pk, channel.pk
            values["patient_id"] = patient.pk if patient is not None else None
            values["author_id"] = written_by.pk if written_by is not None else None
            values["sensitive"] = item.sensitive
            if claimed is not None and values["state"] == MessageState.QUEUED and values["due_at"] is None:
                values["state"], values["claimed_at"], values["enqueued_at"] = MessageState.SENDING, now, None
                values["attempts"] = values["attempts"] + 1
            if len(values) != len(MESSAGE_FIELDS):  # message_fields named a column the model does not have
                raise ValueError(f"Unknown message columns: {sorted(set(values) - set(MESSAGE_FIELDS))}")
            rows.append(tuple(values[name] for name in MESSAGE_FIELDS))
        try:
            with transaction.atomic():
                ids = rows_copy(Message, MESSAGE_FIELDS, rows, ids=True, binary=True)
        except IntegrityError:
            # A key was taken concurrently (a redelivered batch): one at a time, each finding or making its row.
            for item, _, _ in todo:
                results[item.idempotency_key] = message_send(
                    body=item.body,
                    patient=item.patient,
                    to_address=item.to_address,
                    channel=channel,
                    kind=kind,
                    purpose=purpose,
                    idempotency_key=item.idempotency_key,
                    urgent=urgent,
                    subject=item.subject,
                    media=item.media,
                    subject_key=item.subject_key,
                    author=author,
                    announcement_id=announcement_id,
                    sensitive=item.sensitive,
                )
            return results
        created = _messages_loaded(ids, rows, related, channel)
        conversations_written(conversations, created, now)
        ready = [row.pk for row in created if row.state == MessageState.QUEUED and row.due_at is None]
        if ready:
            transaction.on_commit(lambda: queue.messages_enqueue(ready))
        if claimed is not None:
            claimed.extend(row for row in created if row.state == MessageState.SENDING)
    results.update((row.idempotency_key or "", row) for row in created)
    return results
