"""Reply R (slot choices, then 1/2/3), late and taken choices, free text in English and Spanish, ambiguity."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from careline.core.actor import Actor
from careline.messaging.models import Conversation, ConversationEvent, InternalNote, PromptState
from careline.scheduling.models import (
    Appointment,
    AppointmentStatus,
    AppointmentStatusChange,
    ChangeSource,
    TimeOff,
)
from careline.scheduling.prompts import (
    PromptKind,
    appointment_subject,
    scheduling_prompts,
)
from careline.scheduling.services.replies import FRONT_DESK_TAG
from careline.scheduling.tests.replies_support import (
    NOW,
    PAT_NUMBER,
    answers,
    booked,
    chicago,
    patient_with_phone,
    reminded,
    reminded_visit,
    text,
)
from careline.testing.personas import Personas

TUESDAY = date(2031, 1, 7)


pytestmark = [pytest.mark.clock(NOW)]


@pytest.fixture
def visit(personas: Personas, clock: Any) -> Appointment:
    return reminded_visit(personas)


def _choices(appointment: Appointment) -> list[dict[str, Any]]:
    prompt = scheduling_prompts().get(
        subject_key=appointment_subject(appointment.pk), kind=PromptKind.RESCHEDULE, state=PromptState.OPEN
    )
    return list(prompt.options)


def test_r_offers_three_free_slots(visit: Appointment) -> None:
    text("R")
    options = _choices(visit)
    assert [o["n"] for o in options] == [1, 2, 3]
    assert answers()[-1].startswith("Reply 1, 2 or 3 to move your visit at Northside Clinic: 1) ")
    # Spread over different days, never the visit's own time.
    assert len({o["starts_at"][:10] for o in options}) == 3
    assert visit.starts_at.isoformat() not in {o["starts_at"] for o in options}


def test_choosing_a_number_moves_the_visit_in_one_step(visit: Appointment) -> None:
    text("R")
    second = _choices(visit)[1]
    text("2")
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.RESCHEDULED
    new = Appointment.objects.get(rescheduled_from=visit)
    assert new.starts_at.isoformat() == second["starts_at"]
    assert new.status == AppointmentStatus.BOOKED
    assert AppointmentStatusChange.objects.filter(appointment=visit).last().source == ChangeSource.TEXT  # type: ignore[union-attr]
    assert answers()[-1].startswith("Done: your visit is now on ")


def test_a_slot_taken_since_it_was_offered_gets_fresh_choices(visit: Appointment, personas: Personas) -> None:
    text("R")
    second = _choices(visit)[1]
    other = patient_with_phone(personas, "Olive", "+13125550166")
    from careline.scheduling.services.appointments import appointment_book

    appointment_book(
        patient=other, clinician=personas.clinician_a, location=personas.location_a,
        appointment_type=visit.appointment_type, starts_at=_parse(second["starts_at"]),
        actor=Actor.staff(personas.front_a), source="staff", notify=False,
    )  # fmt: skip
    text("2")
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED
    assert answers()[-1].startswith("That time was just taken. New choices: Reply 1, 2 or 3")
    assert second["starts_at"] not in {o["starts_at"] for o in _choices(visit)}


def test_a_choice_after_the_offer_expired_gets_fresh_choices(visit: Appointment, clock: Any) -> None:
    text("R")
    clock.shift(timedelta(hours=25))
    text("1")
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED
    assert answers()[-1].startswith("Those times are no longer held. New choices: Reply 1")
    assert (
        scheduling_prompts()
        .filter(subject_key=appointment_subject(visit.pk), kind=PromptKind.RESCHEDULE, state="open")
        .count()
        == 1
    )


def test_nothing_free_goes_to_the_front_desk_with_context(visit: Appointment, personas: Personas) -> None:
    TimeOff.objects.create(
        clinician=personas.clinician_a, starts_at=NOW, ends_at=NOW + timedelta(days=30), reason="leave"
    )
    text("R")
    conversation = Conversation.objects.get(contact=PAT_NUMBER)
    assert ConversationEvent.objects.filter(conversation=conversation, kind="flagged").exists()
    assert conversation.tags.filter(name=FRONT_DESK_TAG).exists()
    note = InternalNote.objects.get(conversation=conversation)
    assert note.author is None
    assert "Mon, Jan 6 at 9:00 AM" in note.text and "Casey Clinician" in note.text
    assert answers()[-1].startswith("We could not find another free time by text.")


def test_free_text_day_and_part_of_day_offers_matching_slots(visit: Appointment) -> None:
    text("can I come Tuesday afternoon?")
    options = _choices(visit)
    assert options
    for option in options:
        local = Appointment(location=visit.location, starts_at=_parse(option["starts_at"])).local_start
        assert local.date() == TUESDAY and 12 <= local.hour < 17


def test_spanish_free_text_with_a_time(visit: Appointment, personas: Personas) -> None:
    personas.pat.language = "es"
    personas.pat.save()
    text("¿el martes a las 3?")
    options = _choices(visit)
    first = Appointment(location=visit.location, starts_at=_parse(options[0]["starts_at"])).local_start
    assert (first.date(), first.hour, first.minute) == (TUESDAY, 15, 0)
    assert answers()[-1].startswith(
        "Responda 1, 2 o 3 para cambiar su cita en Northside Clinic: 1) mar 7 ene a las 15:00"
    )


def test_free_text_it_cannot_read_goes_to_the_inbox(visit: Appointment) -> None:
    text("I might be a little late, sorry")
    assert answers() == []
    assert not scheduling_prompts().filter(kind=PromptKind.RESCHEDULE).exists()


def test_two_upcoming_visits_with_open_reminders_go_to_staff(visit: Appointment, personas: Personas) -> None:
    second = booked(_schedule_of(visit, personas), chicago(TUESDAY, 10))
    reminded(second)
    text("C")
    visit.refresh_from_db()
    second.refresh_from_db()
    assert visit.status == second.status == AppointmentStatus.BOOKED
    note = InternalNote.objects.get(conversation__contact=PAT_NUMBER)
    assert "Mon, Jan 6 at 9:00 AM" in note.text and "Tue, Jan 7 at 10:00 AM" in note.text
    assert answers() == []


def test_a_family_phone_with_reminders_for_two_patients_goes_to_staff(
    visit: Appointment, personas: Personas
) -> None:
    sibling = patient_with_phone(personas, "Sibby", "+13125550188")
    from careline.patients.models import PatientPhone, PhoneKind

    PatientPhone.objects.create(patient=sibling, number=PAT_NUMBER, kind=PhoneKind.MOBILE)
    theirs = booked(_schedule_of(visit, personas), chicago(TUESDAY, 10), patient=sibling)
    reminded(theirs)
    text("X")
    note = InternalNote.objects.get(conversation__contact=PAT_NUMBER)
    assert personas.pat.display_name in note.text
    assert sibling.display_name in note.text
    assert not scheduling_prompts().filter(kind=PromptKind.CANCEL_CONFIRM).exists()


def _parse(value: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(value)


def _schedule_of(visit: Appointment, personas: Personas) -> Any:
    from careline.scheduling.tests.appointment_support import Schedule

    return Schedule(personas, visit.appointment_type)


def test_the_front_desk_sees_the_flag_and_the_note_in_the_inbox(
    visit: Appointment, personas: Personas, client_for: Any
) -> None:
    TimeOff.objects.create(clinician=personas.clinician_a, starts_at=NOW, ends_at=NOW + timedelta(days=30))
    text("R")
    conversation = Conversation.objects.get(contact=PAT_NUMBER)
    client = client_for(personas.front_a)
    inbox = client.get("/inbox/").content.decode()
    assert FRONT_DESK_TAG in inbox
    page = client.get(f"/inbox/{conversation.pk}").content.decode()
    assert "Careline (automatic)" in page and "No free time of that type" in page
