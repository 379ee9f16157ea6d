"""The conversations of a bulk send (`messages_send_bulk`): found together, the missing ones made together, and
their row facts moved after the batch's messages without a subquery per conversation.

A conversation the batch makes is inserted as its texts will leave it (last message at the batch's moment, the
facts of `conversation_facts.new_conversation_facts`) with one binary COPY whose ids come from the sequence, so
nothing is read back or rewritten; one that existed moves by what texts no staff member wrote change
(`facts_after_texts_not_by_staff`); where staff texts went, the derived expressions decide. The property test
in tests/test_conversation_facts.py holds the columns equal to the derived computation.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, router, transaction

from careline.core.rowcopy import rows_copy, rows_copy_new_returning
from careline.messaging.conversation_facts import (
    NEVER_TRIED,
    conversation_facts,
    facts_after_texts_not_by_staff,
    new_conversation_facts,
)
from careline.messaging.models import Channel, Conversation, Message, MessageKind
from careline.messaging.outbound.policy import FACTS_CHUNK
from careline.patients.models import Patient


def conversations_found(channel: Channel, contacts: list[str]) -> dict[str, Conversation]:
    """The existing conversations with CONTACTS on CHANNEL, looked up FACTS_CHUNK contacts at a time."""
    found: dict[str, Conversation] = {}
    with transaction.atomic(), _bitmap_scans_off():
        for start in range(0, len(contacts), FACTS_CHUNK):
            part = contacts[start : start + FACTS_CHUNK]
            found.update(
                (c.contact, c) for c in Conversation.objects.filter(channel=channel, contact__any_of=part)
            )
    return found


@contextmanager
def _bitmap_scans_off() -> Iterator[None]:
    """PostgreSQL plans the block's statements without bitmap scans (the transaction's setting, put back after).

    The contacts' trigram index (messaging 0016) also answers `contact = ANY(...)`, by bitmap scans only, and
    while its pending list holds the entries of recent inserts (right after a batch made conversations) the
    planner chose it and scanned that list once per contact: 1.2 s for 1,000 contacts against 1 ms through the
    unique (channel, contact) b-tree. Without bitmap scans it reads the b-tree (or, when it believes the table
    nearly empty, the rows of the channel once).
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_bitmapscan')")
        before = cursor.fetchone()[0]
        cursor.execute("SELECT set_config('enable_bitmapscan', 'off', true)")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('enable_bitmapscan', %s, true)", [before])


class BatchConversations(dict[str, Conversation]):
    """The conversation of each contact of a batch; MADE: the ids of those the batch inserted with their row
    facts and last-message time already set (so `conversations_written` leaves them alone)."""

    def __init__(self) -> None:
        super().__init__()
        self.made: set[int] = set()


def batch_conversations(
    channel: Channel,
    wanted: dict[str, Patient | None],
    now: datetime,
    *,
    consent: Mapping[str, str] | None = None,
) -> BatchConversations:
    """The conversation of each contact in WANTED on CHANNEL, creating missing ones (patients linked).

    New ones are inserted as the batch's texts will leave them (last message NOW, `new_conversation_facts`);
    `conversations_written` then rewrites only the others. CONSENT: the general consent state of the numbers
    the batch looked up already (`SuppressionFacts.consent`); other contacts' are read.
    """
    found = BatchConversations()
    found.update(conversations_found(channel, list(wanted)))
    missing = [contact for contact in wanted if contact not in found]
    if missing:
        rows = _new_conversation_rows(channel, wanted, missing, now, consent or {})
        try:
            with transaction.atomic():
                ids = rows_copy(Conversation, CONVERSATION_FIELDS, rows, ids=True, binary=True)
            created = _conversations_built(ids, rows)
        except IntegrityError:
            # A contact's conversation was made concurrently: the others are inserted around it, and it is
            # read back (its facts then recomputed like any existing conversation's).
            created = rows_copy_new_returning(Conversation, CONVERSATION_FIELDS, rows)
        found.update((conversation.contact, conversation) for conversation in created)
        found.made.update(conversation.pk for conversation in created)
        unread = [contact for contact in missing if contact not in found]
        if unread:  # made concurrently, or on a database that does not say what it inserted
            found.update(conversations_found(channel, unread))
    for contact, conversation in found.items():
        patient = wanted[contact]
        if patient is not None and conversation.patient_id is None:
            # Same rule as conversation_for: a conversation learns its patient once.
            Conversation.objects.filter(pk=conversation.pk, patient__isnull=True).update(
                patient=patient, location=patient.primary_location
            )
            conversation.patient, conversation.location = patient, patient.primary_location
    return found


def _consent_states(contacts: list[str], known: Mapping[str, str]) -> dict[str, str]:
    """`consent_states` of CONTACTS: KNOWN's, the others read FACTS_CHUNK at a time."""
    from careline.patients.services.registry import consent_states

    states = {contact: known[contact] for contact in contacts if contact in known}
    unknown = [contact for contact in contacts if contact not in known]
    for start in range(0, len(unknown), FACTS_CHUNK):
        states.update(consent_states(unknown[start : start + FACTS_CHUNK]))
    return states


# The columns of a new conversation, every concrete one but the id in the model's order (so the values
# written and the id make the instance, without reading it back).
CONVERSATION_FIELDS = tuple(f.attname for f in Conversation._meta.concrete_fields if not f.primary_key)


def _new_conversation_rows(
    channel: Channel,
    wanted: dict[str, Patient | None],
    contacts: list[str],
    now: datetime,
    consent: Mapping[str, str],
) -> list[tuple[Any, ...]]:
    """The CONVERSATION_FIELDS values of new conversations with CONTACTS: their patient and location, the
    last message NOW and `new_conversation_facts` (CONSENT: states known already); every other column its
    default."""
    defaults = {
        f.attname: now if getattr(f, "auto_now_add", False) else f.get_default()
        for f in Conversation._meta.concrete_fields
        if not f.primary_key
    }
    states = _consent_states(contacts, consent)
    rows = []
    for contact in contacts:
        patient = wanted[contact]
        values = defaults | new_conversation_facts(consent=states[contact])
        values |= {
            "channel_id": channel.pk,
            "contact": contact,
            "patient_id": patient.pk if patient else None,
            "location_id": patient.primary_location_id if patient else None,
            "last_message_at": now,
            "updated_at": now,
        }
        rows.append(tuple(values[name] for name in CONVERSATION_FIELDS))
    return rows


def _conversations_built(ids: list[int], rows: list[tuple[Any, ...]]) -> list[Conversation]:
    """The conversations ROWS (CONVERSATION_FIELDS values) wrote with IDS, as instances."""
    using = router.db_for_write(Conversation)
    names = [f.attname for f in Conversation._meta.concrete_fields]
    at = names.index("id")  # the id among the columns, in the model's order
    return [
        Conversation.from_db(using, names, (*row[:at], pk, *row[at:]))
        for pk, row in zip(ids, rows, strict=True)
    ]


def conversations_written(conversations: BatchConversations, messages: list[Message], now: datetime) -> None:
    """Move the last-message time and the row facts of the conversations MESSAGES went into.

    Those the batch made hold theirs already (`new_conversation_facts`); the others move by what the batch's
    texts change (`facts_after_texts_not_by_staff`), without a subquery per row. Where staff texts went, the
    derived expressions work the facts out (whether the patient is waited on is theirs to decide).
    """
    by_staff: set[int] = set()
    others: set[int] = set()
    meant_to_go: set[int] = set()
    for message in messages:
        if message.kind == MessageKind.STAFF:
            by_staff.add(message.conversation_id)
            continue
        if message.conversation_id not in conversations.made:
            others.add(message.conversation_id)
        if message.state not in NEVER_TRIED:
            meant_to_go.add(message.conversation_id)
    if by_staff:
        Conversation.objects.filter(pk__any_of=by_staff).update(
            last_message_at=now, updated_at=now, **conversation_facts()
        )
    others -= by_staff
    if others:
        Conversation.objects.filter(pk__any_of=others).update(
            last_message_at=now,
            updated_at=now,
            **facts_after_texts_not_by_staff(meant_to_go=meant_to_go & others),
        )
