"""Reads for the shared inbox: which conversations a person may see, the filtered list and one thread.

Who sees a conversation (INBOX_VIEW is required for any of it):
- staff who see every location (PATIENT_VIEW_ALL_LOCATIONS) see every conversation;
- a conversation linked to a patient follows that patient: visible exactly when the patient is (their
  current primary location is one of the person's), so the inbox never shows more than the registry;
- an unlinked conversation with a known location follows that location;
- an unlinked conversation with no location (a number nobody is linked to yet) is visible when the number
  matches no patient at all (an unknown sender: someone on the front desk must triage it) or matches at
  least one patient the person may see (a family phone: they can pick the right one). A family phone whose
  patients all belong to other locations stays with those locations' staff.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from careline.core.permissions import Perm, has_perm
from careline.messaging.models import Conversation, ConversationEvent, InternalNote, Message, SavedReply, Tag
from careline.patients.models import Patient, PatientPhone
from careline.patients.queries import patients_visible_to


def conversations_visible_to(user: Any) -> QuerySet[Conversation]:
    """The conversations USER may read (see the module docstring for the rule)."""
    if not has_perm(user, Perm.INBOX_VIEW) or not has_perm(user, Perm.PATIENT_VIEW):
        return Conversation.objects.none()
    if has_perm(user, Perm.PATIENT_VIEW_ALL_LOCATIONS):
        return Conversation.objects.all()
    locations = list(user.location_ids)
    phones = PatientPhone.objects.filter(number=OuterRef("contact"))
    # The unlinked conversations without a location, judged on their own (a few, over a partial index, see
    # migration 0014) and then matched by id: never the patient phones hashed for every conversation listed.
    unlinked = Conversation.objects.filter(patient__isnull=True, location__isnull=True)
    unknown_sender = unlinked.filter(~Exists(phones)).values("pk")
    family_phone = unlinked.filter(Exists(phones.filter(patient__primary_location_id__in=locations))).values(
        "pk"
    )
    # A linked conversation's location is its patient's (kept in step when the patient moves:
    # services/conversations.py, conversations_on_patient_updated), so no join to the patients.
    return Conversation.objects.filter(
        Q(location_id__in=locations) | Q(pk__in=unknown_sender) | Q(pk__in=family_phone)
    )


def conversation_for_user(user: Any, pk: int, perm: str = Perm.INBOX_VIEW) -> Conversation:
    """Conversation PK if USER holds PERM and may see it: 404 when there is none, 403 when it is not theirs."""
    try:
        conversation = Conversation.objects.select_related(
            "patient", "patient__primary_location", "location", "channel", "assigned_to"
        ).get(pk=pk)
    except Conversation.DoesNotExist:
        raise Http404("No such conversation") from None
    if not has_perm(user, perm) or not conversations_visible_to(user).filter(pk=pk).exists():
        raise PermissionDenied
    return conversation


def tags_in_use() -> list[str]:
    """Every tag name, for the filter and the tag picker."""
    return list(Tag.objects.order_by("name").values_list("name", flat=True))


@dataclass
class ThreadEntry:
    """One line of a conversation: a message, an internal note or an event, in time order."""

    at: datetime
    kind: str  # "message", "note" or "event"
    message: Message | None = None
    note: InternalNote | None = None
    event: ConversationEvent | None = None
    extra: dict[str, Any] = field(default_factory=dict)


THREAD_LIMIT = 200  # entries a live poll answers with at most
THREAD_PAGE = 50  # entries a conversation opens with; "Earlier messages" loads as many again each time


@dataclass
class ThreadPage:
    """The latest entries of a thread (or those before a position), oldest first; where earlier ones start
    (`earlier`, '' when there are none); and the newest message, note and event ids read (the live poll's
    cursor starts there, so a note older than the entries shown is never sent again as new)."""

    entries: list[ThreadEntry]
    earlier: str
    newest: tuple[int, int, int]


@dataclass(frozen=True)
class ThreadPosition:
    """An entry's place in the thread's order (time, kind, id): "Earlier messages" loads what comes before."""

    at: datetime
    kind: int
    pk: int

    def encode(self) -> str:
        micros = (self.at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
        return f"{micros}.{self.kind}.{self.pk}"

    @classmethod
    def decode(cls, raw: str) -> ThreadPosition | None:
        """The position RAW names; None when it is not one Careline wrote."""
        parts = (raw or "").split(".")
        if len(parts) != 3 or not all(p.isdigit() and len(p) <= 18 for p in parts):
            return None
        kind = int(parts[1])
        if kind not in KIND_ORDER.values():
            return None
        try:
            at = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(parts[0]))
        except OverflowError:
            return None
        return cls(at, kind, int(parts[2]))


def _before(time_field: str, kind: str, position: ThreadPosition | None) -> Q:
    """Rows of KIND that come before POSITION in the thread's order (all rows when None)."""
    if position is None:
        return Q()
    order = KIND_ORDER[kind]
    earlier_instant = Q(**{f"{time_field}__lt": position.at})
    if order < position.kind:
        return earlier_instant | Q(**{time_field: position.at})
    if order == position.kind:
        return earlier_instant | Q(**{time_field: position.at, "pk__lt": position.pk})
    return earlier_instant


def conversation_thread(
    conversation: Conversation, *, before: ThreadPosition | None = None, size: int = THREAD_PAGE
) -> ThreadPage:
    """The latest SIZE messages, internal notes and events of CONVERSATION (before BEFORE when given), oldest
    first: at most SIZE + 1 rows of each kind are read, whatever the thread's length."""
    messages = list(
        Message.objects.filter(_before("created_at", "message", before), conversation=conversation)
        .select_related("author")
        .order_by("-created_at", "-id")[: size + 1]
    )
    notes = list(
        InternalNote.objects.filter(_before("created_at", "note", before), conversation=conversation)
        .select_related("author")
        .order_by("-created_at", "-id")[: size + 1]
    )
    events = list(
        ConversationEvent.objects.filter(_before("at", "event", before), conversation=conversation)
        .select_related("actor")
        .order_by("-at", "-id")[: size + 1]
    )
    entries = [ThreadEntry(at=m.created_at, kind="message", message=m) for m in messages]
    entries += [ThreadEntry(at=n.created_at, kind="note", note=n) for n in notes]
    entries += [ThreadEntry(at=e.at, kind="event", event=e) for e in events]
    entries.sort(key=thread_order)
    shown = entries[-size:]
    earlier = ""
    if len(entries) > size:
        first = shown[0]
        row = first.message or first.note or first.event
        earlier = ThreadPosition(first.at, KIND_ORDER[first.kind], row.pk if row is not None else 0).encode()
    newest = (
        max((m.pk for m in messages), default=0),
        max((n.pk for n in notes), default=0),
        max((e.pk for e in events), default=0),
    )
    return ThreadPage(entries=shown, earlier=earlier, newest=newest)


KIND_ORDER = {"message": 0, "note": 1, "event": 2}


def thread_order(entry: ThreadEntry) -> tuple[Any, int, int]:
    """Time order of thread entries; rows of one instant in the order they were written (by id)."""
    row = entry.message or entry.note or entry.event
    return (entry.at, KIND_ORDER.get(entry.kind, 3), row.pk if row is not None else 0)


def conversation_candidates_for(user: Any, conversation: Conversation) -> list[Patient]:
    """The patients on CONVERSATION's number that USER may see (the family-phone picker)."""
    ids = PatientPhone.objects.filter(number=conversation.contact).values("patient_id")
    return list(
        patients_visible_to(user)
        .filter(pk__in=ids)
        .select_related("primary_location")
        .order_by("legal_last_name", "pk")
    )


def saved_replies_for(conversation: Conversation) -> list[SavedReply]:
    """Active saved replies for CONVERSATION's location (and those for every location)."""
    location_id = (
        conversation.patient.primary_location_id if conversation.patient else conversation.location_id
    )
    return list(
        SavedReply.objects.filter(Q(location__isnull=True) | Q(location_id=location_id), is_active=True)
    )


def assignable_staff(conversation: Conversation) -> list[Any]:
    """Active staff who could read CONVERSATION, to assign it to."""
    from careline.accounts.models import User

    location_id = (
        conversation.patient.primary_location_id if conversation.patient else conversation.location_id
    )
    users = (
        User.objects.filter(is_active=True).prefetch_related("role_rows", "locations").order_by("full_name")
    )
    result = []
    for candidate in users:
        roles = {row.role for row in candidate.role_rows.all()}
        candidate.__dict__["role_codes"] = frozenset(roles)  # fill the cached property from the prefetch
        if not has_perm(candidate, Perm.INBOX_VIEW):
            continue
        locations = {location.pk for location in candidate.locations.all()}
        if (
            has_perm(candidate, Perm.PATIENT_VIEW_ALL_LOCATIONS)
            or location_id is None
            or location_id in locations
        ):
            result.append(candidate)
    return result


def simulator_numbers(user: Any, channel_id: int) -> QuerySet[Conversation]:
    """Conversations on the simulator channel USER may see, newest first (the simulator's number list)."""
    return (
        conversations_visible_to(user)
        .filter(channel_id=channel_id)
        .select_related("patient")
        .order_by("-last_message_at", "-id")
    )
