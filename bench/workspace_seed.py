"""Seeding the staff workspace benchmark: a clinic's two years of texting and a busy calendar, in minutes.

One function per model (`seed_<model>`), each a bulk insert of model instances inside one transaction, so a
field added later with a default is filled by Django without touching this file. `seed_workspace` calls
them in order and times each step. Everything is derived from a seeded `random.Random`: two runs with the
same sizes and seed make the same rows.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from bench.search import load as seed_patients_with_phones
from bench.search import phone_for
from careline.accounts.models import User
from careline.core.permissions import Role
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
from careline.patients.models import ConsentEvent, ConsentKind, ConsentMethod, Patient, Purpose
from careline.scheduling.models import Appointment, AppointmentStatus, AppointmentType, WorkingHours

BATCH = 20_000  # rows handed to one bulk_create call (Django splits them into statements the driver takes)
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


@dataclass(frozen=True)
class Sizes:
    """How much to seed. Conversations and messages scale with the patients unless given."""

    patients: int = 100_000
    conversations: int = 60_000
    messages: int = 1_000_000
    clinicians_per_location: int = 6
    visits_per_clinician_day: int = 20
    weeks_around: int = 4  # weeks of visits before and after the measured week

    @classmethod
    def quick(cls) -> Sizes:
        return cls(patients=20_000, conversations=12_000, messages=100_000)


@dataclass
class Workspace:
    """What the measurement needs from the seeded data: who signs in, which pages to open, what to search."""

    locations: list[Location]
    front_desk: User
    admin: User
    clinicians: list[User]
    heavy_conversation_ids: list[int]
    week_day: date
    phones_typed: list[str]
    phone_fragments: list[str]
    search_words: list[str]
    seconds: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)


@contextmanager
def historic_timestamps(*model_classes: type[models.Model]) -> Iterator[None]:
    """Let bulk_create keep the past times the seed sets (auto_now_add would stamp every row with now)."""
    changed = []
    for model in model_classes:
        for each in model._meta.concrete_fields:
            if isinstance(each, models.DateField) and (each.auto_now or each.auto_now_add):
                changed.append((each, each.auto_now, each.auto_now_add))
                each.auto_now = each.auto_now_add = False
    try:
        yield
    finally:
        for each, auto_now, auto_now_add in changed:
            each.auto_now, each.auto_now_add = auto_now, auto_now_add


def _bulk(model: type[models.Model], rows: Iterator[Any]) -> int:
    """Insert ROWS (model instances, made lazily) in batches; how many were inserted."""
    count = 0
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            model.objects.bulk_create(batch)  # type: ignore[attr-defined]
            count += len(batch)
            batch = []
    if batch:
        model.objects.bulk_create(batch)  # type: ignore[attr-defined]
        count += len(batch)
    return count


class FastRows:
    """Rows of MODEL inserted without a model instance each: a multi-row INSERT on SQLite, COPY on PostgreSQL.

    For the million-row tables, where bulk_create's per-field work would take most of the seed. The columns
    come from the model, and every field a row does not give takes its value from one instance built with
    FIXED (so a field added later with a default is filled, as bulk_create would).
    """

    def __init__(self, model: type[models.Model], **fixed: Any) -> None:
        prototype = model(**fixed)
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        self.index = {f.attname: n for n, f in enumerate(self.fields)}
        self.base = [f.get_db_prep_save(f.pre_save(prototype, add=True), connection) for f in self.fields]
        self.datetimes = {f.attname for f in self.fields if isinstance(f, models.DateTimeField)}
        unique_defaults = [
            f.name for f in self.fields if f.unique and f.has_default() and f.attname not in fixed
        ]
        if unique_defaults:
            raise ValueError(
                f"FastRows cannot share the default of unique fields {unique_defaults}: give them"
            )

    def row(self, values: dict[str, Any]) -> list[Any]:
        """The database values of one row: VALUES (by attribute name, e.g. conversation_id) over the defaults."""
        row = self.base.copy()
        adapt = connection.ops.adapt_datetimefield_value
        for name, value in values.items():
            row[self.index[name]] = adapt(value) if name in self.datetimes and value is not None else value
        return row

    def insert(self, rows: Iterator[list[Any]]) -> int:
        """Insert ROWS (from `row`); how many."""
        quote = connection.ops.quote_name
        table, columns = (
            quote(self.model._meta.db_table),
            ", ".join(quote(str(f.column)) for f in self.fields),
        )
        count = 0
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                        count += 1
                return count
            statement = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(self.fields))})"  # noqa: S608 - names from the model
            batch: list[list[Any]] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= BATCH:
                    cursor.executemany(statement, batch)
                    count, batch = count + len(batch), []
            if batch:
                cursor.executemany(statement, batch)
                count += len(batch)
        return count


# --- people and places -------------------------------------------------------------------------------


def seed_patients(sizes: Sizes, seed: int) -> tuple[list[Location], User]:
    """Two locations, a front-desk user at the first, and the patients with a mobile each (bench.search)."""
    front_desk, _ = seed_patients_with_phones(sizes.patients, seed)
    return list(Location.objects.filter(name__startswith="Bench ").order_by("pk")), front_desk


def seed_staff(locations: list[Location], sizes: Sizes) -> tuple[User, list[User], list[User]]:
    """An administrator (with a confirmed authenticator), front desk at each location, and clinicians."""
    admin = User.objects.create_user(
        "bench.admin@example.test", None, full_name="Bench Admin", roles=[Role.ADMIN]
    )
    admin.locations.set(locations)
    TOTPDevice.objects.create(user=admin, name="Authenticator", confirmed=True)
    desks = []
    for number, location in enumerate(locations):
        user = User.objects.create_user(
            f"bench.desk{number}@example.test", None, full_name=f"Desk {number}", roles=[Role.FRONT_DESK]
        )
        user.locations.set([location])
        desks.append(user)
    clinicians = []
    for number in range(sizes.clinicians_per_location * len(locations)):
        location = locations[number % len(locations)]
        user = User.objects.create_user(
            f"bench.clinician{number}@example.test",
            None,
            full_name=f"Dr. Clinician {number:02d}",
            roles=[Role.CLINICIAN],
        )
        user.locations.set([location])
        clinicians.append(user)
    return admin, desks, clinicians


def seed_tags() -> list[Tag]:
    """The tags a front desk uses."""
    return Tag.objects.bulk_create(Tag(name=name) for name in TAG_NAMES)


def seed_channel() -> Channel:
    """The SMS channel every conversation is on (the simulator type: nothing leaves the machine)."""
    return simulator_channel()


# --- conversations and messages ----------------------------------------------------------------------


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
            for kind, at in zip(plan.kinds, plan.times, strict=True):
                values = _message(kind, at, conversation, location, rng)
                values.update(
                    conversation_id=conversation.pk,
                    channel_id=conversation.channel_id,
                    patient_id=conversation.patient_id,
                    author_id=author.pk if author is not None and kind == "staff" else None,
                )
                yield maker.row(values)

    with transaction.atomic():
        return maker.insert(rows())


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
        return _bulk(through, rows())


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
        return _bulk(ConversationEvent, rows())


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
        return _bulk(InternalNote, rows())


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
        return _bulk(ConsentEvent, rows())


# --- the calendar ------------------------------------------------------------------------------------

VISIT_TYPES = (
    ("Follow-up", 20),
    ("New patient", 20),
    ("Vaccination", 15),
    ("Physical", 20),
    ("Lab review", 15),
)
# The 20-minute places of a working day (08:00-12:00, 13:00-18:00); a day's visits take some of them.
DAY_SLOTS = tuple(clock(8 + m // 60, m % 60) for m in range(0, 10 * 60, 20) if not 240 <= m < 300)


def seed_appointment_types(locations: list[Location], clinicians: list[User]) -> list[AppointmentType]:
    """The visit kinds every clinician offers at both locations."""
    types = AppointmentType.objects.bulk_create(
        AppointmentType(name=name, duration_minutes=minutes, name_safe_to_text=True)
        for name, minutes in VISIT_TYPES
    )
    for kind in types:
        kind.locations.set(locations)
        kind.clinicians.set(clinicians)
    return types


def seed_working_hours(clinicians: list[User]) -> int:
    """Monday to Friday, 08:00-12:00 and 13:00-18:00 at the clinician's location."""
    rows = [
        WorkingHours(clinician=c, location_id=loc, weekday=day, starts=starts, ends=ends)
        for c in clinicians
        for loc in sorted(c.location_ids)
        for day in range(5)
        for starts, ends in ((clock(8), clock(12)), (clock(13), clock(18)))
    ]
    with transaction.atomic():
        return len(WorkingHours.objects.bulk_create(rows))


def seed_appointments(
    sizes: Sizes,
    week_day: date,
    clinicians: list[User],
    types: list[AppointmentType],
    patients: list[tuple[int, int]],
    front_desk: User,
    now: datetime,
    seed: int,
) -> int:
    """About VISITS_PER_CLINICIAN_DAY visits per clinician on each weekday of the measured week and around it."""
    rng = random.Random(seed + 16)
    by_location: dict[int, list[int]] = {}
    for patient_id, location_id in patients:
        by_location.setdefault(location_id, []).append(patient_id)
    zones = {loc.pk: loc.zone for loc in Location.objects.all()}
    monday = week_day - timedelta(days=week_day.weekday())
    home = {c.pk: min(c.location_ids) for c in clinicians}
    visits = min(sizes.visits_per_clinician_day, len(DAY_SLOTS))

    def rows() -> Iterator[Appointment]:
        for week in range(-sizes.weeks_around, sizes.weeks_around + 1):
            for weekday in range(5):
                day = monday + timedelta(days=7 * week + weekday)
                for clinician in clinicians:
                    location_id = home[clinician.pk]
                    zone = zones[location_id]
                    for slot in sorted(rng.sample(DAY_SLOTS, visits)):
                        kind = rng.choice(types)
                        starts = datetime.combine(day, slot, tzinfo=zone).astimezone(UTC)
                        if starts < now:
                            status = rng.choices(
                                (
                                    AppointmentStatus.COMPLETED,
                                    AppointmentStatus.NO_SHOW,
                                    AppointmentStatus.CANCELLED_PATIENT,
                                ),
                                (85, 5, 10),
                            )[0]
                        else:
                            status = rng.choices(
                                (
                                    AppointmentStatus.BOOKED,
                                    AppointmentStatus.CONFIRMED,
                                    AppointmentStatus.CANCELLED_CLINIC,
                                ),
                                (60, 35, 5),
                            )[0]
                        booked_at = starts - timedelta(days=rng.uniform(1, 40))
                        yield Appointment(
                            patient_id=rng.choice(by_location[location_id]),
                            clinician=clinician,
                            location_id=location_id,
                            appointment_type=kind,
                            starts_at=starts,
                            ends_at=starts + timedelta(minutes=kind.duration_minutes),
                            status=status,
                            created_by=front_desk,
                            created_at=booked_at,
                            updated_at=booked_at,
                        )

    with transaction.atomic(), historic_timestamps(Appointment):
        return _bulk(Appointment, rows())


# --- all of it ---------------------------------------------------------------------------------------


def _search_texts(
    plans: list[ThreadPlan], conversations: list[Conversation], front_desk: User
) -> tuple[list[str], list[str]]:
    """Phones of visible patients who text, typed in full as (614) 200-0124, and as their last four digits."""
    visible = front_desk.location_ids
    numbers = [
        plan.contact
        for plan, conversation in zip(plans, conversations, strict=True)
        if conversation.location_id in visible and conversation.patient_id
    ][:40]
    typed = [f"({n[2:5]}) {n[5:8]}-{n[8:]}" for n in numbers]
    return typed, [n[-4:] for n in numbers]


def seed_workspace(sizes: Sizes, seed: int = 7, now: datetime | None = None) -> Workspace:
    """Everything the workspace pages read, timed step by step (Workspace.seconds)."""
    now = now or timezone.now()
    seconds: dict[str, float] = {}
    rows: dict[str, int] = {}
    started = time.perf_counter()

    def step(name: str, began: float, count: int | None = None) -> None:
        seconds[name] = time.perf_counter() - began
        if count is not None:
            rows[name] = count

    began = time.perf_counter()
    locations, front_desk = seed_patients(sizes, seed)
    step("patients", began, sizes.patients)
    began = time.perf_counter()
    admin, desks, clinicians = seed_staff(locations, sizes)
    desks = [front_desk, *desks]
    channel, tags = seed_channel(), seed_tags()
    patients = list(
        Patient.objects.filter(mrn__startswith="B").order_by("mrn").values_list("pk", "primary_location_id")
    )
    step("staff, channel, tags", began)
    began = time.perf_counter()
    plans = plan_threads(sizes, now, seed)
    conversations = seed_conversations(plans, patients, channel, desks, now, seed)
    step("conversations", began, len(conversations))
    began = time.perf_counter()
    step("messages", began, seed_messages(plans, conversations, locations, desks, seed))
    heavy = [c.pk for c in conversations[:HEAVY_THREADS]]
    began = time.perf_counter()
    extra = seed_conversation_tags(conversations, tags, seed)
    extra += seed_conversation_events(conversations, seed)
    extra += seed_internal_notes(conversations, desks, set(heavy), seed)
    extra += seed_consent_events(conversations, now)
    step("tags, events, notes, consent", began, extra)
    began = time.perf_counter()
    week_day = timezone.localtime(now, locations[0].zone).date()
    types = seed_appointment_types(locations, clinicians)
    seed_working_hours(clinicians)
    step(
        "appointments",
        began,
        seed_appointments(sizes, week_day, clinicians, types, patients, front_desk, now, seed),
    )
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    step("analyze", began)
    seconds["total"] = time.perf_counter() - started
    typed, fragments = _search_texts(plans, conversations, front_desk)
    return Workspace(
        locations=locations,
        front_desk=User.objects.get(pk=front_desk.pk),
        admin=User.objects.get(pk=admin.pk),
        clinicians=clinicians,
        heavy_conversation_ids=heavy,
        week_day=week_day,
        phones_typed=typed,
        phone_fragments=fragments,
        search_words=list(SEARCH_WORDS),
        seconds=seconds,
        rows=rows,
    )
