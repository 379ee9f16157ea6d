"""Seeding the inbox of the staff workspace bench: conversations, messages, tags, events, notes, consent.

One function per model (`seed_<model>`); bench/workspace_seed.py calls them in order.
"""

from __future__ import annotations

import importlib
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction

from bench.bulk_rows import BATCH, FastRows, bulk_insert, historic_timestamps
from bench.search import phone_for
from careline.accounts.models import User
from careline.locations.models import Location
from careline.messaging.models import (
    Channel,
    Conversation,
    ConversationEvent,
    InternalNote,
    Message,
    MessageKind,
    MessageState,
    Tag,
)
from careline.messaging.services.channels import simulator_channel
from careline.patients.models import ConsentEvent, ConsentKind, ConsentMethod, Purpose

SEARCH_WORDS_BACKFILL: str = importlib.import_module(
    "careline.messaging.migrations.0019_conversation_search"
).BACKFILL

if TYPE_CHECKING:
    from bench.workspace_seed import Sizes

HISTORY_DAYS = 730
ACTIVE_DAYS = 45  # how long a patient's thread stays active, on average
HEAVY_THREADS = 5  # conversations with HEAVY_MESSAGES messages each: the conversation page measured
HEAVY_MESSAGES = 220  # more than the page's 200-entry limit, as a long-running patient thread
UNLINKED_SHARE = 0.02  # conversations with a number no patient has (unknown senders)
TAG_NAMES = (
    "billing",
    "follow-up",
    "forms",
    "insurance",
    "new patient",
    "prescription",
    "referral",
    "urgent",
)
SEARCH_WORDS = ("insurance", "parking", "refill", "x-ray", "Friday", "paperwork", "referral", "copay")

INBOUND_BODIES = (
    "Thanks, see you tomorrow",
    "Can I come at 3 instead?",
    "Running 10 minutes late, sorry",
    "Ok",
    "Who is this?",
    "Do you take my new insurance? I changed jobs",
    "Is there parking near the clinic?",
    "I need a refill of my blood pressure medicine",
    "Can you send the x-ray results to my other doctor?",
    "Are you open on Friday afternoon?",
    "I filled in the paperwork, do I bring it or email it?",
    "My daughter has a fever, can she be seen today?",
    "What is the copay for the follow-up visit?",
    "I still have not received the referral letter",
    "Yes",
    "Gracias, ahí estaré",
    "¿Puedo cambiar la cita para el viernes?",
)
STAFF_BODIES = (
    "Hi, this is the front desk. We have you down for Thursday at 10:30.",
    "Yes, we take that insurance. Please bring the new card to your visit.",
    "There is free parking behind the building, entrance on Oak St.",
    "The refill request went to your clinician; the pharmacy will text you.",
    "We sent the x-ray report this morning.",
    "We are open until 5 on Friday.",
    "You can bring the paperwork with you, or upload it in the portal.",
    "Please call us at the main number so a nurse can triage.",
    "Your copay depends on your plan; billing will call you today.",
    "The referral was faxed yesterday, please let us know if they did not get it.",
    "You're welcome!",
)
REMINDER_BODY = (
    "Reminder: your visit at {location} on {day} at {time}. Reply C to confirm, R to reschedule, X to cancel."
)
AUTO_REPLY_BODY = "{location} is closed now. We will answer when we open. If this is an emergency, call 911."
KEYWORD_REPLY_BODY = "You will get texts from {location} again. Reply STOP to stop, HELP for help."
ANNOUNCEMENT_BODY = "{location} will be closed on Monday for the holiday. Happy holidays!"
# Outbound kinds of the mix: (kind of message, purpose, body template).
OUTBOUND_KINDS = {
    "staff": (MessageKind.STAFF, Purpose.GENERAL, ""),
    "reminder": (MessageKind.AUTOMATED, Purpose.APPOINTMENTS, REMINDER_BODY),
    "auto_reply": (MessageKind.AUTO_REPLY, Purpose.GENERAL, AUTO_REPLY_BODY),
    "keyword_reply": (MessageKind.KEYWORD_REPLY, Purpose.GENERAL, KEYWORD_REPLY_BODY),
    "announcement": (MessageKind.ANNOUNCEMENT, Purpose.GENERAL, ANNOUNCEMENT_BODY),
}
FAILURES = (("30003", "Unreachable destination handset"), ("30006", "Landline or unreachable carrier"))

# (kind, share): what a clinic's texting is made of; each outbound reminder is one row like any other text.
MESSAGE_MIX = (
    ("inbound", 0.34),
    ("staff", 0.26),
    ("reminder", 0.30),
    ("auto_reply", 0.05),
    ("keyword_reply", 0.03),
    ("announcement", 0.02),
)


def seed_tags() -> list[Tag]:
    """The tags a front desk uses."""
    return Tag.objects.bulk_create(Tag(name=name) for name in TAG_NAMES)


def seed_channel() -> Channel:
    """The SMS channel every conversation is on (the simulator type: nothing leaves the machine)."""
    return simulator_channel()


@dataclass
class ThreadPlan:
    """One conversation to seed: its patient (index into the patient list, or None), number and times."""

    patient_index: int | None
    contact: str
    times: list[datetime]
    kinds: list[str]


def plan_threads(sizes: Sizes, now: datetime, seed: int) -> list[ThreadPlan]:
    """Who texts, how much and when: a long tail of short threads, a few long ones, two years of history."""
    rng = random.Random(seed + 10)
    conversations = min(sizes.conversations, sizes.patients)
    unlinked = max(1, int(conversations * UNLINKED_SHARE))
    # The heavy threads belong to the first location's patients (even indexes), so both users see them.
    heavy = [2 * n for n in range(HEAVY_THREADS)]
    others = rng.sample(range(2 * HEAVY_THREADS, sizes.patients), conversations - unlinked - len(heavy))
    owners: list[int | None] = [*heavy, *others, *([None] * unlinked)]
    budget = max(sizes.messages - HEAVY_MESSAGES * len(heavy), len(owners) - len(heavy))
    weights = [rng.lognormvariate(0, 1.0) for _ in owners[len(heavy) :]]
    total = sum(weights)
    counts = [HEAVY_MESSAGES] * len(heavy) + [max(1, math.floor(budget * w / total)) for w in weights]
    for _ in range(sizes.messages - sum(counts)):
        counts[rng.randrange(len(heavy), len(counts))] += 1
    kinds, shares = zip(*MESSAGE_MIX, strict=True)
    plans = []
    for number, (owner, count) in enumerate(zip(owners, counts, strict=True)):
        # A thread is active for a while (weeks to months) some time in the two years, then goes quiet, so
        # most conversations are old and closed; the heavy threads run for months up to today.
        if owner in heavy:
            first, last = (
                now - timedelta(days=rng.uniform(60, 400)),
                now - timedelta(minutes=rng.uniform(5, 600)),
            )
        else:
            first = now - timedelta(days=rng.uniform(0, HISTORY_DAYS))
            last = min(now, first + timedelta(days=rng.expovariate(1 / ACTIVE_DAYS)))
        span = (last - first).total_seconds()
        times = sorted(first + timedelta(seconds=rng.uniform(0, span)) for _ in range(count))
        times[-1] = last
        contact = phone_for(owner) if owner is not None else f"+1555{number:07d}"
        plans.append(ThreadPlan(owner, contact, times, rng.choices(kinds, shares, k=count)))
    return plans


def seed_conversations(
    plans: list[ThreadPlan],
    patients: list[tuple[int, int]],
    channel: Channel,
    desks: list[User],
    now: datetime,
    seed: int,
) -> list[Conversation]:
    """One conversation per plan: open when active in the last two weeks, some assigned, unread counts."""
    rng = random.Random(seed + 11)
    desk_at: dict[int | None, User] = {}
    for desk in desks:
        for location_id in desk.location_ids:
            desk_at.setdefault(location_id, desk)

    def rows() -> Iterator[Conversation]:
        for plan in plans:
            patient_id, location_id = (
                patients[plan.patient_index] if plan.patient_index is not None else (None, None)
            )
            last_at = plan.times[-1]
            inbound = [t for t, k in zip(plan.times, plan.kinds, strict=True) if k == "inbound"]
            is_open = now - last_at < timedelta(days=14) or rng.random() < 0.03
            unread = 0
            if is_open and plan.kinds[-1] == "inbound":
                unread = rng.choice((1, 1, 1, 2, 3))
            desk = desk_at.get(location_id)
            assigned = desk if desk is not None and rng.random() < 0.3 else None
            # The needs-attention facts the inbound path keeps: when the patient last wrote and the start of
            # that text (seed_messages writes the same text as the last inbound message), a few flags, and
            # updated_at at the last change the list shows (the last message), never "now" for every row.
            preview = rng.choice(INBOUND_BODIES) if inbound else ""
            flagged = rng.random() < (0.03 if is_open else 0.005)
            yield Conversation(
                channel=channel,
                contact=plan.contact,
                patient_id=patient_id,
                location_id=location_id,
                status=Conversation.Status.OPEN if is_open else Conversation.Status.CLOSED,
                assigned_to=assigned,
                unread_count=unread,
                last_message_at=last_at,
                last_inbound_at=inbound[-1] if inbound else None,
                last_patient_message_at=inbound[-1] if inbound else None,
                last_patient_preview=preview,
                flagged=flagged,
                updated_at=last_at,
                created_at=plan.times[0],
            )

    with transaction.atomic(), historic_timestamps(Conversation):
        created: list[Conversation] = []
        batch: list[Conversation] = []
        for row in rows():
            batch.append(row)
            if len(batch) >= BATCH:
                created += Conversation.objects.bulk_create(batch)
                batch = []
        created += Conversation.objects.bulk_create(batch)
    return created


def _message(
    kind: str, at: datetime, conversation: Conversation, location: Location | None, rng: random.Random
) -> dict[str, Any]:
    """The values of one message of KIND at AT, with the states and times the pipeline would have left."""
    place = location.name if location is not None else "The clinic"
    clinic_number = location.phone if location is not None else "+15555550100"
    if kind == "inbound":
        return {
            "direction": Message.Direction.INBOUND,
            "kind": MessageKind.PATIENT,
            "to_address": clinic_number,
            "from_address": conversation.contact,
            "body": rng.choice(INBOUND_BODIES),
            "state": MessageState.RECEIVED,
            "segments": 1,
            "created_at": at,
            "processed_at": at + timedelta(seconds=1),
        }
    message_kind, purpose, template = OUTBOUND_KINDS[kind]
    if kind == "staff":
        body = rng.choice(STAFF_BODIES)
    elif kind == "reminder":
        body = template.format(location=place, day=f"{at + timedelta(days=2):%a %b %d}", time="10:30 AM")
    else:
        body = template.format(location=place)
    failed = rng.random() < 0.06
    code, reason = rng.choice(FAILURES) if failed else ("", "")
    sent_at = at + timedelta(seconds=2)
    return {
        "direction": Message.Direction.OUTBOUND,
        "kind": message_kind,
        "purpose": purpose,
        "to_address": conversation.contact,
        "from_address": clinic_number,
        "body": body,
        "state": rng.choice((MessageState.FAILED, MessageState.UNDELIVERED))
        if failed
        else MessageState.DELIVERED,
        "error_code": code,
        "error_message": reason,
        "provider_message_id": f"SM{rng.getrandbits(64):016x}",
        "segments": len(body) // 153 + 1,
        "encoding": "GSM-7",
        "attempts": 1,
        "created_at": at,
        "sent_at": sent_at,
        "delivered_at": None if failed else sent_at + timedelta(seconds=3),
        "finished_at": sent_at + timedelta(seconds=3),
    }


def seed_messages(
    plans: list[ThreadPlan],
    conversations: list[Conversation],
    locations: list[Location],
    desks: list[User],
    seed: int,
) -> int:
    """Every planned message of every conversation, in one transaction; how many."""
    rng = random.Random(seed + 12)
    by_id = {location.pk: location for location in locations}
    author_for = {loc.pk: next((d for d in desks if loc.pk in d.location_ids), None) for loc in locations}
    maker = FastRows(Message, channel_id=conversations[0].channel_id)

    def rows() -> Iterator[list[Any]]:
        for plan, conversation in zip(plans, conversations, strict=True):
            location = by_id.get(conversation.location_id) if conversation.location_id else None
            author = author_for.get(location.pk) if location is not None else desks[0]
            last_inbound = max((n for n, kind in enumerate(plan.kinds) if kind == "inbound"), default=-1)
            for n, (kind, at) in enumerate(zip(plan.kinds, plan.times, strict=True)):
                values = _message(kind, at, conversation, location, rng)
                if n == last_inbound:
                    values["body"] = conversation.last_patient_preview  # what the list shows of it
                values.update(
                    conversation_id=conversation.pk,
                    channel_id=conversation.channel_id,
                    patient_id=conversation.patient_id,
                    author_id=author.pk if author is not None and kind == "staff" else None,
                )
                yield maker.row(values)

    with transaction.atomic():
        if connection.vendor != "postgresql":
            return maker.insert(rows())
        # A million rows: the conversations' search words in one set-based pass afterwards (the migration's
        # backfill) rather than the insert trigger once per row.
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE messaging_message DISABLE TRIGGER messaging_message_search_add")
            count = maker.insert(rows())
            cursor.execute(SEARCH_WORDS_BACKFILL)
            # The rows' foreign keys are checked now: the ALTER refuses a table with pending checks.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE messaging_message ENABLE TRIGGER messaging_message_search_add")
        return count


def seed_conversation_tags(conversations: list[Conversation], tags: list[Tag], seed: int) -> int:
    """About one conversation in six carries one or two tags."""
    rng = random.Random(seed + 13)
    through = Conversation.tags.through

    def rows() -> Iterator[Any]:
        for conversation in conversations:
            if rng.random() < 1 / 6:
                for tag in rng.sample(tags, rng.choice((1, 1, 2))):
                    yield through(conversation_id=conversation.pk, tag_id=tag.pk)

    with transaction.atomic():
        return bulk_insert(through, rows())


def seed_conversation_events(conversations: list[Conversation], seed: int) -> int:
    """The history staff leave on conversations: assignments, closings, tags."""
    rng = random.Random(seed + 14)

    def rows() -> Iterator[ConversationEvent]:
        for conversation in conversations:
            at = conversation.last_message_at or conversation.created_at
            if conversation.assigned_to_id:
                yield ConversationEvent(
                    conversation=conversation,
                    kind=ConversationEvent.Kind.ASSIGNED,
                    actor_id=conversation.assigned_to_id,
                    detail="to the front desk",
                    at=at,
                )
            if conversation.status == Conversation.Status.CLOSED and rng.random() < 0.5:
                yield ConversationEvent(
                    conversation=conversation, kind=ConversationEvent.Kind.CLOSED, at=at + timedelta(hours=2)
                )

    with transaction.atomic(), historic_timestamps(ConversationEvent):
        return bulk_insert(ConversationEvent, rows())


def seed_internal_notes(
    conversations: list[Conversation], desks: list[User], heavy: set[int], seed: int
) -> int:
    """Notes staff wrote: a few on one conversation in twenty, a dozen on each long thread."""
    rng = random.Random(seed + 15)

    def rows() -> Iterator[InternalNote]:
        for conversation in conversations:
            count = 12 if conversation.pk in heavy else (1 if rng.random() < 0.05 else 0)
            last = conversation.last_message_at or conversation.created_at
            for n in range(count):
                yield InternalNote(
                    conversation=conversation,
                    author=desks[0],
                    text=f"Called the patient back ({n + 1}); they will bring the form.",
                    created_at=last - timedelta(days=n * 3, minutes=5),
                )

    with transaction.atomic(), historic_timestamps(InternalNote):
        return bulk_insert(InternalNote, rows())


def seed_consent_events(conversations: list[Conversation], now: datetime) -> int:
    """Texting consent on file for every patient who texts (signed at registration)."""

    def rows() -> Iterator[ConsentEvent]:
        for conversation in conversations:
            if conversation.patient_id:
                yield ConsentEvent(
                    phone_number=conversation.contact,
                    kind=ConsentKind.GIVEN,
                    method=ConsentMethod.FORM,
                    patient_id=conversation.patient_id,
                    occurred_at=min(conversation.created_at, now) - timedelta(days=1),
                )

    with transaction.atomic():
        return bulk_insert(ConsentEvent, rows())
