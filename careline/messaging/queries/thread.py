"""Reads for the live thread of an open conversation and for the inbox's new-message notices.

The open conversation polls with a cursor (the last message, note and event it shows) and a version (a digest
of everything on the page that can change without a new row: delivery states, retries, status, assignment,
flags, what a reply would meet). The server answers 204 when the version is the same, else only the rows after
the cursor and the few parts of the page that show state.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Any

from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from careline.core.params import row_id
from careline.messaging.models import Conversation, ConversationEvent, InternalNote, Message, MessageState
from careline.messaging.queries.inbox import THREAD_LIMIT, ThreadEntry, conversations_visible_to, thread_order

# Outbound messages whose state line is re-sent when something changed (the newest ones: older texts have
# long reached a final state).
STATE_REFRESH_LIMIT = 50
NOTICE_LIMIT = 20


@dataclass(frozen=True)
class ThreadCursor:
    """The newest message, internal note and event a page shows (0: none), and how many of the conversation's
    messages, notes and events have ids up to those (`seen`, `notes_seen`, `events_seen`): a row committed
    after a newer one (two transactions racing) has an older id, so it is found by its count changing, never
    lost below the cursor."""

    message: int = 0
    note: int = 0
    event: int = 0
    seen: int = 0
    notes_seen: int = 0
    events_seen: int = 0

    # The poll's query string names, in field order.
    PARAMETERS = ("after", "note", "event", "seen", "nseen", "eseen")

    @classmethod
    def from_query(cls, query: Any) -> ThreadCursor | None:
        """The cursor in a poll's query string (`after`, `note`, `event` and their counts `seen`, `nseen`,
        `eseen`); None when there is none or it is bad."""
        if query.get("after") is None:
            return None
        values = []
        for name in cls.PARAMETERS:
            raw = query.get(name)
            value = 0 if raw in (None, "", "0") else row_id(raw)
            if value is None:
                return None
            values.append(value)
        return cls(*values)

    @classmethod
    def of(cls, entries: list[ThreadEntry], since: ThreadCursor | None = None) -> ThreadCursor:
        """The cursor after ENTRIES (appended to a page at SINCE); the counts are SINCE's until counted."""
        base = since or cls()
        return replace(
            base,
            message=max([base.message] + [e.message.pk for e in entries if e.message is not None]),
            note=max([base.note] + [e.note.pk for e in entries if e.note is not None]),
            event=max([base.event] + [e.event.pk for e in entries if e.event is not None]),
        )

    def counted(self, conversation: Conversation) -> ThreadCursor:
        """This cursor with its three counts counted now (one query)."""
        counts = (
            Conversation.objects.filter(pk=conversation.pk)
            .values_list(
                _count_up_to(Message, self.message),
                _count_up_to(InternalNote, self.note),
                _count_up_to(ConversationEvent, self.event),
            )
            .first()
        ) or (0, 0, 0)
        seen, notes_seen, events_seen = (int(n or 0) for n in counts)
        return replace(self, seen=seen, notes_seen=notes_seen, events_seen=events_seen)

    def query(self, version: str) -> str:
        """The poll's query string."""
        values = (self.message, self.note, self.event, self.seen, self.notes_seen, self.events_seen)
        return "&".join(f"{name}={value}" for name, value in zip(self.PARAMETERS, values, strict=True)) + (
            f"&v={version}"
        )


def _count_up_to(model: Any, last: int) -> Coalesce:
    """How many rows of MODEL in the outer conversation have ids up to LAST (a scalar subquery)."""
    rows = (
        model.objects.filter(conversation=OuterRef("pk"), pk__lte=last)
        .order_by()
        .values("conversation")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(rows), Value(0))


def _newest_and_count(model: Any) -> tuple[Coalesce, Coalesce]:
    """The newest id and the number of the outer conversation's rows of MODEL (scalar subqueries)."""
    rows = model.objects.filter(conversation=OuterRef("pk")).order_by().values("conversation")
    return (
        Coalesce(Subquery(rows.annotate(m=Max("id")).values("m")), Value(0)),
        Coalesce(Subquery(rows.annotate(n=Count("id")).values("n")), Value(0)),
    )


def thread_version(conversation: Conversation, *, outlook: str = "") -> str:
    """A short digest of what the open conversation shows that can change in place, and of its notes and
    events (how many, the newest), so one written by someone else brings the poll's answer (two queries).

    OUTLOOK is the composer's notice (quiet hours move on with the clock, consent changes in the ledger).
    """
    states = {
        state: Count("id", filter=Q(state=state))
        for state in MessageState.values
        if state != MessageState.RECEIVED
    }
    facts = Message.objects.filter(conversation=conversation).aggregate(
        last=Max("id"), messages=Count("id"), attempts=Sum("attempts"), media=Sum("media_attempts"), **states
    )
    last_note, notes = _newest_and_count(InternalNote)
    last_event, events = _newest_and_count(ConversationEvent)
    others = (
        Conversation.objects.filter(pk=conversation.pk)
        .values_list(last_note, notes, last_event, events)
        .first()
    )
    parts = [
        conversation.status,
        conversation.assigned_to_id,
        conversation.patient_id,
        conversation.opt_out_suspected,
        conversation.visit_cancel_suspected,
        outlook,
        *sorted(facts.items()),
        others,
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def thread_entries_after(conversation: Conversation, cursor: ThreadCursor) -> list[ThreadEntry]:
    """The messages, internal notes and events of CONVERSATION newer than CURSOR, oldest first (bounded)."""
    messages = Message.objects.filter(conversation=conversation, pk__gt=cursor.message).select_related(
        "author"
    )
    notes = InternalNote.objects.filter(conversation=conversation, pk__gt=cursor.note).select_related(
        "author"
    )
    events = ConversationEvent.objects.filter(conversation=conversation, pk__gt=cursor.event).select_related(
        "actor"
    )
    entries = [ThreadEntry(at=m.created_at, kind="message", message=m) for m in messages[:THREAD_LIMIT]]
    entries += [ThreadEntry(at=n.created_at, kind="note", note=n) for n in notes[:THREAD_LIMIT]]
    entries += [ThreadEntry(at=e.at, kind="event", event=e) for e in events[:THREAD_LIMIT]]
    entries.sort(key=thread_order)
    return entries[-THREAD_LIMIT:]


def outbound_to_refresh(conversation: Conversation, cursor: ThreadCursor) -> list[Message]:
    """The newest outbound messages already on the page (at most STATE_REFRESH_LIMIT), to re-send their state."""
    return list(
        Message.objects.filter(
            conversation=conversation, direction=Message.Direction.OUTBOUND, pk__lte=cursor.message
        ).order_by("-id")[:STATE_REFRESH_LIMIT]
    )


# --- notices of new patient messages ------------------------------------------------------------------


def notice_conversations(user: Any) -> QuerySet[Conversation]:
    """Conversations whose new patient messages USER is told about: assigned to them, or unassigned at one
    of their locations (or with no location yet: an unknown sender someone must triage)."""
    locations = list(user.location_ids)
    at_my_locations = Q(location_id__in=locations) | Q(patient__isnull=True, location__isnull=True)
    return conversations_visible_to(user).filter(
        Q(assigned_to=user) | (Q(assigned_to__isnull=True) & at_my_locations)
    )


def inbound_cursor() -> int:
    """The newest inbound message's id (where a page starts listening)."""
    return Message.objects.filter(direction=Message.Direction.INBOUND).aggregate(last=Max("id"))["last"] or 0


def new_patient_messages(user: Any, after: int) -> list[Message]:
    """Patient messages newer than AFTER in USER's notice conversations, newest last (bounded)."""
    return list(
        Message.objects.filter(
            direction=Message.Direction.INBOUND,
            pk__gt=after,
            conversation__in=notice_conversations(user).values("pk"),
        )
        .select_related("conversation", "conversation__patient")
        .order_by("id")[:NOTICE_LIMIT]
    )
