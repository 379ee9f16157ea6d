"""Seeding the staff workspace benchmark: a clinic's two years of texting and a busy calendar, in minutes.

One function per model (`seed_<model>`), each a bulk insert inside one transaction that fills every field
through the model, so a field added later with a default is filled without touching the seed. The inbox's
are in bench/workspace_seed_inbox.py; `seed_workspace` calls them all in order and times each step. Everything is derived from a seeded `random.Random`: two runs with the
same sizes and seed make the same rows.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock

from django.db import connection, transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from bench.bulk_rows import bulk_insert, historic_timestamps
from bench.search import load as seed_patients_with_phones
from bench.workspace_seed_inbox import (
    HEAVY_THREADS,
    SEARCH_WORDS,
    ThreadPlan,
    plan_threads,
    seed_channel,
    seed_consent_events,
    seed_conversation_events,
    seed_conversation_tags,
    seed_conversations,
    seed_internal_notes,
    seed_messages,
    seed_tags,
)
from careline.accounts.models import User
from careline.core.permissions import Role
from careline.locations.models import Location
from careline.messaging.conversation_facts import conversation_facts_refresh
from careline.messaging.models import Conversation
from careline.patients.models import Patient
from careline.scheduling.models import Appointment, AppointmentStatus, AppointmentType, WorkingHours


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
        return bulk_insert(Appointment, rows())


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
    # The list's row facts as the services keep them (one set-based UPDATE over every conversation).
    step("row facts", began, conversation_facts_refresh(Conversation.objects.all()))
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
