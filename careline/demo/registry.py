"""Made-up patients for the demo clinic: names, phones, consent, caregivers, alerts and care notes.

Deterministic for a given seed (Faker and `random.Random` instances of their own), so two demo clinics
look the same apart from the dates, which follow the clock. Rows go in with bulk_create: a few hundred
patients load in well under a second.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.utils import timezone
from faker import Faker

from careline.accounts.models import User
from careline.core.text import search_key
from careline.demo.texts import ALERTS, CAREGIVER_RELATIONSHIPS, NICKNAMES, NOTE_AMENDMENTS, note_text
from careline.locations.models import Location, OpeningHours
from careline.patients.models import (
    Caregiver,
    CareNote,
    Channel,
    ConsentEvent,
    ConsentKind,
    ConsentMethod,
    ContactPreference,
    Language,
    NoteAmendment,
    NoteKind,
    Patient,
    PatientAlert,
    PatientPhone,
    PatientStatus,
    PhoneKind,
    Purpose,
    Sex,
)

# Sizes of the households that share one family phone.
FAMILY_SIZES = (2, 3, 2, 3, 2)
NOTE_KIND_WEIGHTS = {
    NoteKind.HANDOFF: 35,
    NoteKind.CLINICAL: 30,
    NoteKind.COMMUNICATION: 20,
    NoteKind.BILLING: 10,
    NoteKind.OTHER: 5,
}
CITIES = {
    "OH": (
        ("Columbus", "43215"),
        ("Bexley", "43209"),
        ("Grandview Heights", "43212"),
        ("Whitehall", "43213"),
    ),
    "WI": (("Madison", "53703"), ("Middleton", "53562"), ("Monona", "53716"), ("Fitchburg", "53711")),
}


@dataclass
class DemoStaff:
    """The demo accounts that author rows."""

    admin: User
    front_desk: dict[str, User]  # by location name
    clinicians: list[User]
    billing: User


@dataclass
class _Person:
    patient: Patient
    phone: str | None = None
    phone_kind: str = PhoneKind.MOBILE
    phone_label: str = ""
    landline: str | None = None
    family: int | None = None


@dataclass
class _Context:
    rng: random.Random
    fakers: dict[str, Faker]
    now: datetime
    staff: DemoStaff
    locations: list[Location]
    phone_pools: dict[int, list[str]] = field(default_factory=dict)
    opening_hours: dict[int, list[OpeningHours]] = field(default_factory=dict)

    def phone_from_pool(self, location: Location) -> str:
        return self.phone_pools[location.pk].pop()

    def moment_in_past(self, *, days: int) -> datetime:
        return self.now - timedelta(seconds=self.rng.randrange(3600, days * 86400))


def _phone_pools(ctx: _Context, area_codes: dict[str, Sequence[str]]) -> None:
    # 555-0100..0199 is reserved for fiction in every North American area code: no real person is reachable.
    for location in ctx.locations:
        numbers = [f"+1{code}5550{n:03d}" for code in area_codes[location.name] for n in range(101, 200)]
        ctx.rng.shuffle(numbers)
        ctx.phone_pools[location.pk] = numbers


def _birth_date(ctx: _Context, *, minor: bool | None = None) -> date:
    if minor is None:
        band = ctx.rng.choices(("child", "adult", "senior"), weights=(15, 60, 25))[0]
    else:
        band = "child" if minor else "adult"
    low, high = {"child": (1, 17), "adult": (18, 64), "senior": (65, 94)}[band]
    age = ctx.rng.randint(low, high)
    return ctx.now.date() - timedelta(days=age * 365 + ctx.rng.randrange(365))


def _new_patient(
    ctx: _Context,
    *,
    location: Location,
    spanish: bool,
    last_name: str | None = None,
    minor: bool | None = None,
) -> Patient:
    rng = ctx.rng
    fake = ctx.fakers["es_MX" if spanish or rng.random() < 0.08 else "en_US"]
    sex = rng.choices((Sex.FEMALE, Sex.MALE, Sex.OTHER, Sex.UNKNOWN), weights=(48, 47, 3, 2))[0]
    first = {Sex.FEMALE: fake.first_name_female, Sex.MALE: fake.first_name_male}.get(sex, fake.first_name)()
    if last_name is None:
        last_name = fake.last_name()
        if fake is ctx.fakers["es_MX"] and rng.random() < 0.35:
            last_name = f"{last_name} {fake.last_name()}"  # two surnames
        elif rng.random() < 0.04:
            last_name = f"{last_name}-{ctx.fakers['en_US'].last_name()}"
    nickname = NICKNAMES.get(first, "") if rng.random() < 0.6 else ""
    pronouns = {Sex.FEMALE: "she/her", Sex.MALE: "he/him", Sex.OTHER: "they/them"}.get(sex, "")
    region = location.region
    city, postal_code = rng.choice(CITIES.get(region, ((location.city, location.postal_code),)))
    email = ""
    if rng.random() < 0.6:
        local = f"{search_key(first)}.{search_key(last_name)}".replace(" ", "")
        email = f"{local}{rng.randint(1, 99)}@example.{rng.choice(('com', 'org', 'net'))}"
    return Patient(
        legal_first_name=first,
        legal_last_name=last_name,
        preferred_name=nickname,
        date_of_birth=_birth_date(ctx, minor=minor),
        sex=sex,
        pronouns=pronouns if rng.random() < 0.5 else "",
        language=Language.SPANISH if spanish else Language.ENGLISH,
        address_line1=ctx.fakers["en_US"].street_address(),
        city=city,
        region=region,
        postal_code=postal_code,
        email=email,
        primary_location=location,
        primary_clinician=rng.choice(ctx.staff.clinicians) if rng.random() < 0.85 else None,
    )


def _people(ctx: _Context, count: int) -> list[_Person]:
    rng = ctx.rng
    people: list[_Person] = []
    family_sizes = [size for size in FAMILY_SIZES if size <= count]
    for family_no, size in enumerate(family_sizes):
        if len(people) + size > count:
            break
        location = rng.choice(ctx.locations)
        spanish = rng.random() < 0.3
        head = _new_patient(ctx, location=location, spanish=spanish, minor=False)
        phone = ctx.phone_from_pool(location)
        people.append(_Person(head, phone, PhoneKind.MOBILE, "family phone", family=family_no))
        for _ in range(size - 1):
            member = _new_patient(ctx, location=location, spanish=spanish, last_name=head.legal_last_name)
            label = "parent's mobile" if member.age_on(ctx.now.date()) < 18 else "family phone"
            people.append(_Person(member, phone, PhoneKind.MOBILE, label, family=family_no))
    while len(people) < count:
        location = ctx.locations[0] if rng.random() < 0.55 else ctx.locations[-1]
        patient = _new_patient(ctx, location=location, spanish=rng.random() < 0.24)
        person = _Person(patient, ctx.phone_from_pool(location))
        roll = rng.random()
        if roll < 0.05:
            person.phone_kind, person.phone_label = PhoneKind.LANDLINE, "home"
        elif roll < 0.11:
            person.landline = ctx.phone_from_pool(location)
        if patient.age_on(ctx.now.date()) < 18 and person.phone_kind == PhoneKind.MOBILE:
            person.phone_label = "parent's mobile"
        people.append(person)
    rng.shuffle(people)
    return people


def _mark_statuses(ctx: _Context, people: list[_Person]) -> None:
    rng = ctx.rng
    seniors = [p for p in people if p.patient.age_on(ctx.now.date()) >= 75 and p.family is None]
    for person in rng.sample(seniors, min(2, len(seniors))):
        person.patient.status = PatientStatus.DECEASED
    alive = [p for p in people if p.patient.status == PatientStatus.ACTIVE]
    for person in rng.sample(alive, min(4, len(alive))):
        person.patient.status = PatientStatus.INACTIVE
    adults = [
        p
        for p in people
        if p.patient.age_on(ctx.now.date()) >= 16 and p.patient.status == PatientStatus.ACTIVE
    ]
    for person in rng.sample(adults, min(6, len(adults))):
        person.patient.confidential_communications = True


def _phones_create(people: list[_Person]) -> int:
    rows = []
    for person in people:
        if person.phone:
            rows.append(
                PatientPhone(
                    patient=person.patient,
                    number=person.phone,
                    kind=person.phone_kind,
                    is_primary=True,
                    label=person.phone_label,
                )
            )
        if person.landline:
            rows.append(
                PatientPhone(
                    patient=person.patient, number=person.landline, kind=PhoneKind.LANDLINE, label="home"
                )
            )
    return len(PatientPhone.objects.bulk_create(rows))


def _preferences_create(ctx: _Context, people: list[_Person]) -> int:
    rng = ctx.rng
    rows = []
    for person in people:
        patient = person.patient
        if patient.status == PatientStatus.DECEASED or rng.random() < 0.15:
            continue
        texts = person.phone is not None and person.phone_kind == PhoneKind.MOBILE
        if patient.confidential_communications:
            choices = {
                Purpose.APPOINTMENTS: Channel.PORTAL,
                Purpose.BILLING: Channel.MAIL,
                Purpose.CARE: Channel.PORTAL,
            }
        else:
            choices = {
                Purpose.APPOINTMENTS: Channel.SMS if texts else Channel.PHONE,
                Purpose.BILLING: Channel.EMAIL if patient.email else Channel.MAIL,
                Purpose.CARE: rng.choice((Channel.SMS, Channel.PHONE, Channel.PORTAL))
                if texts
                else Channel.PHONE,
                Purpose.GENERAL: Channel.SMS if texts and rng.random() < 0.6 else Channel.EMAIL,
            }
        recorder = ctx.staff.front_desk[patient.primary_location.name]
        for purpose in rng.sample(sorted(choices), rng.randint(2, len(choices))):
            rows.append(
                ContactPreference(
                    patient=patient,
                    purpose=purpose,
                    channel=choices[purpose],
                    recorded_at=ctx.moment_in_past(days=365),
                    recorded_by=recorder,
                )
            )
    return len(ContactPreference.objects.bulk_create(rows))


def _consent_create(ctx: _Context, people: list[_Person]) -> int:
    rng = ctx.rng
    rows = []
    seen: set[str] = set()
    for person in people:
        number = person.phone
        if not number or person.phone_kind != PhoneKind.MOBILE or number in seen:
            continue
        seen.add(number)
        if person.patient.status == PatientStatus.DECEASED or rng.random() < 0.08:
            continue  # never asked
        front = ctx.staff.front_desk[person.patient.primary_location.name]
        method = rng.choices(
            (ConsentMethod.FORM, ConsentMethod.STAFF, ConsentMethod.PORTAL), weights=(6, 3, 1)
        )[0]
        given_at = ctx.moment_in_past(days=540)
        rows.append(
            ConsentEvent(
                phone_number=number,
                kind=ConsentKind.GIVEN,
                method=method,
                patient=person.patient,
                recorded_by=front if method != ConsentMethod.PORTAL else None,
                occurred_at=given_at,
                note="Signed at registration" if method == ConsentMethod.FORM else "",
            )
        )
        if rng.random() < 0.08:
            revoked_at = given_at + (ctx.now - given_at) * rng.uniform(0.2, 0.9)
            rows.append(
                ConsentEvent(
                    phone_number=number,
                    kind=ConsentKind.REVOKED,
                    method=ConsentMethod.KEYWORD,
                    patient=person.patient,
                    occurred_at=revoked_at,
                    note="Replied STOP",
                )
            )
    return len(ConsentEvent.objects.bulk_create(rows))


def _caregivers_create(ctx: _Context, people: list[_Person], count: int) -> int:
    rng = ctx.rng
    today = ctx.now.date()
    minors = [p for p in people if p.patient.age_on(today) < 18 and p.family is None]
    seniors = [
        p for p in people if p.patient.age_on(today) >= 70 and p.patient.status != PatientStatus.DECEASED
    ]
    chosen = rng.sample(minors, min(len(minors), count // 2))
    chosen += rng.sample(seniors, min(len(seniors), count - len(chosen)))
    rows = []
    for person in chosen:
        patient = person.patient
        minor = patient.age_on(today) < 18
        fake = ctx.fakers["es_MX" if patient.language == Language.SPANISH else "en_US"]
        relationship = rng.choice(CAREGIVER_RELATIONSHIPS["minor" if minor else "senior"])
        surname = patient.legal_last_name if minor or relationship == "spouse" else fake.last_name()
        rows.append(
            Caregiver(
                patient=patient,
                name=f"{fake.first_name()} {surname}",
                relationship=relationship,
                phone=ctx.phone_from_pool(patient.primary_location),
                email=f"{search_key(surname).replace(' ', '')}.family@example.com"
                if rng.random() < 0.5
                else "",
                is_proxy=minor or relationship == "legal guardian",
                receives_appointments=True,
                receives_billing=minor or rng.random() < 0.3,
                receives_care=minor or rng.random() < 0.5,
                receives_general=rng.random() < 0.3,
            )
        )
    return len(Caregiver.objects.bulk_create(rows))


def _alerts_create(ctx: _Context, people: list[_Person], count: int) -> int:
    rng = ctx.rng
    living = [p.patient for p in people if p.patient.status != PatientStatus.DECEASED]
    spanish = [p for p in living if p.language == Language.SPANISH]
    rows = []
    for patient in rng.sample(spanish, min(len(spanish), count // 3)):
        rows.append(
            PatientAlert(
                patient=patient,
                kind="interpreter",
                text="Spanish interpreter for visits and calls",
                created_by=ctx.staff.front_desk[patient.primary_location.name],
                created_at=ctx.moment_in_past(days=300),
            )
        )
    taken = {alert.patient.pk for alert in rows}
    others = [p for p in living if p.pk not in taken]
    for patient in rng.sample(others, min(len(others), count - len(rows))):
        kind, text = rng.choice(ALERTS)
        rows.append(
            PatientAlert(
                patient=patient,
                kind=kind,
                text=text,
                created_by=rng.choice(ctx.staff.clinicians),
                created_at=ctx.moment_in_past(days=300),
            )
        )
    # Two alerts that were taken down later: removals are kept, not deleted.
    for alert in rows[-2:]:
        alert.removed_by = ctx.staff.admin
        alert.removed_at = alert.created_at + (ctx.now - alert.created_at) / 2
    return len(PatientAlert.objects.bulk_create(rows))


def _during_opening_hours(ctx: _Context, location: Location, *, days: int) -> datetime:
    """A moment in the last DAYS days when LOCATION was open (in its own zone), before now."""
    rng = ctx.rng
    if location.pk not in ctx.opening_hours:
        ctx.opening_hours[location.pk] = list(location.opening_hours.all())
    periods = ctx.opening_hours[location.pk]
    local_today = ctx.now.astimezone(location.zone).date()
    for _ in range(100):
        day = local_today - timedelta(days=rng.randrange(days))
        todays = [p for p in periods if p.weekday == day.weekday()]
        if not todays:
            continue
        period = rng.choice(todays)
        opens = datetime.combine(day, period.opens, tzinfo=location.zone)
        closes = datetime.combine(day, period.closes, tzinfo=location.zone)
        if closes <= opens:
            closes += timedelta(days=1)
        moment = opens + (closes - opens) * rng.random()
        if moment < ctx.now:
            return moment.astimezone(UTC)
    return ctx.moment_in_past(days=days)


def _notes_create(ctx: _Context, people: list[_Person], count: int) -> tuple[int, int]:
    rng = ctx.rng
    patients = [p.patient for p in people if p.patient.status == PatientStatus.ACTIVE]
    kinds = list(NOTE_KIND_WEIGHTS)
    weights = list(NOTE_KIND_WEIGHTS.values())
    notes = []
    for _ in range(count):
        patient = rng.choice(patients)
        kind = rng.choices(kinds, weights=weights)[0]
        front = ctx.staff.front_desk[patient.primary_location.name]
        author = {
            NoteKind.HANDOFF: rng.choice([front, *ctx.staff.clinicians]),
            NoteKind.CLINICAL: patient.primary_clinician or rng.choice(ctx.staff.clinicians),
            NoteKind.COMMUNICATION: front,
            NoteKind.BILLING: ctx.staff.billing,
            NoteKind.OTHER: rng.choice([front, ctx.staff.billing]),
        }[kind]
        notes.append(
            CareNote(
                patient=patient,
                kind=kind,
                text=note_text(kind, patient, rng),
                author=author,
                location=patient.primary_location,
                created_at=_during_opening_hours(ctx, patient.primary_location, days=14),
            )
        )
    CareNote.objects.bulk_create(notes)
    amendments = []
    for note in rng.sample(notes, max(1, count // 15)) if notes else []:
        addition, reason = rng.choice(NOTE_AMENDMENTS)
        when = min(note.created_at + timedelta(minutes=rng.randint(10, 600)), ctx.now)
        amendments.append(
            NoteAmendment(
                note=note, text=f"{note.text} {addition}", reason=reason, author=note.author, created_at=when
            )
        )
    NoteAmendment.objects.bulk_create(amendments)
    return len(notes), len(amendments)


def registry_populate(
    *,
    locations: list[Location],
    area_codes: dict[str, Sequence[str]],
    staff: DemoStaff,
    patients: int,
    notes: int,
    seed: int,
) -> dict[str, int]:
    """Create PATIENTS made-up patients (with phones, consent, caregivers, alerts) and NOTES care notes."""
    fakers = {"en_US": Faker("en_US"), "es_MX": Faker("es_MX")}
    for offset, fake in enumerate(fakers.values()):
        fake.seed_instance(seed + offset)
    ctx = _Context(
        rng=random.Random(seed), fakers=fakers, now=timezone.now(), staff=staff, locations=locations
    )
    _phone_pools(ctx, area_codes)
    people = _people(ctx, patients)
    _mark_statuses(ctx, people)
    for index, person in enumerate(people, start=1):
        person.patient.mrn = f"RFC-{index:06d}"
        person.patient.refresh_search_keys()  # bulk_create skips save(), which fills the search keys
    Patient.objects.bulk_create([person.patient for person in people])
    note_count, amendment_count = _notes_create(ctx, people, notes)
    return {
        "patients": len(people),
        "phones": _phones_create(people),
        "contact preferences": _preferences_create(ctx, people),
        "consent events": _consent_create(ctx, people),
        "caregivers": _caregivers_create(ctx, people, max(0, patients // 10)),
        "alerts": _alerts_create(ctx, people, max(0, (patients * 3) // 40)),
        "care notes": note_count,
        "amendments": amendment_count,
    }
