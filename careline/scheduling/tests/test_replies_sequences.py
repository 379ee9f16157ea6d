"""Reply words act on the patient's upcoming visit until it starts, whatever was answered before."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from careline.core.actor import Actor
from careline.messaging.models import InternalNote, PromptState
from careline.scheduling.models import Appointment, AppointmentStatus
from careline.scheduling.prompts import (
    PromptKind,
    scheduling_prompts,
)
from careline.scheduling.services.appointments import appointment_move
from careline.scheduling.services.replies import current_visit
from careline.scheduling.tests.replies_support import (
    MONDAY,
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

BOOKED, CONFIRMED = AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED
CANCELLED, RESCHEDULED = AppointmentStatus.CANCELLED_PATIENT, AppointmentStatus.RESCHEDULED
ASK_AGAIN = "Reply X again to cancel your visit on "
THANKS = "Thank you, Pat. Your visit on "
CHOICES = "Reply 1, 2 or 3 to move your visit at "
MOVED = "Done: your visit is now on "
IS_CANCELLED = " is cancelled. To book again call "


pytestmark = [pytest.mark.clock(NOW)]


@pytest.fixture
def visit(personas: Personas, clock: Any) -> Appointment:
    return reminded_visit(personas)


# (replies in order, status of the visit as it is now, was it moved, what the last answer says)
SEQUENCES = [
    (["C"], CONFIRMED, False, THANKS),
    (["C", "C"], CONFIRMED, False, THANKS),
    (["C", "X"], CONFIRMED, False, ASK_AGAIN),
    (["C", "X", "X"], CANCELLED, False, IS_CANCELLED),
    (["C", "R"], CONFIRMED, False, CHOICES),
    (["C", "R", "2"], BOOKED, True, MOVED),
    (["C", "thursday afternoon"], CONFIRMED, False, "Reply "),
    (["X", "C"], CONFIRMED, False, THANKS),
    (["X", "C", "X"], CONFIRMED, False, ASK_AGAIN),
    (["X", "C", "X", "X"], CANCELLED, False, IS_CANCELLED),
    (["X", "R"], BOOKED, False, CHOICES),
    (["R", "C"], CONFIRMED, False, THANKS),
    (["R", "X"], BOOKED, False, ASK_AGAIN),
    (["R", "X", "X"], CANCELLED, False, IS_CANCELLED),
    (["R", "C", "R"], CONFIRMED, False, CHOICES),
    (["R", "1", "C"], CONFIRMED, True, THANKS),
    (["R", "1", "X"], BOOKED, True, ASK_AGAIN),
    (["R", "1", "X", "X"], CANCELLED, True, IS_CANCELLED),
    (["R", "1", "R"], BOOKED, True, CHOICES),
    (["C", "R", "1", "X", "C"], CONFIRMED, True, THANKS),
]


@pytest.mark.parametrize(
    ("replies", "status", "moved", "last_answer"),
    SEQUENCES,
    ids=["-".join(replies) for replies, *_ in SEQUENCES],
)
def test_reply_sequences_act_on_the_upcoming_visit(
    visit: Appointment, replies: list[str], status: str, moved: bool, last_answer: str
) -> None:
    for body in replies:
        text(body)
    now = current_visit(Appointment.objects.get(pk=visit.pk))
    assert now.status == status
    assert (now.pk != visit.pk) is moved
    sent = answers()
    assert len(sent) == len(replies)  # every reply was answered, none left to the after-hours reply
    assert last_answer in sent[-1]


def test_a_word_after_the_visit_was_cancelled_goes_to_the_inbox(visit: Appointment) -> None:
    for body in ["X", "X", "C", "R"]:
        text(body)
    visit.refresh_from_db()
    assert visit.status == CANCELLED
    assert len(answers()) == 2


def test_an_expired_cancel_question_is_asked_again(visit: Appointment, clock: Any) -> None:
    text("X")
    clock.move_to(NOW + timedelta(hours=25))
    text("X")
    visit.refresh_from_db()
    assert visit.status == BOOKED
    assert answers()[-1].startswith(ASK_AGAIN)
    text("X")
    visit.refresh_from_db()
    assert visit.status == CANCELLED


def test_a_cancel_question_about_the_old_time_does_not_cancel_the_moved_visit(
    visit: Appointment, personas: Personas
) -> None:
    text("X")
    new = appointment_move(
        appointment=visit,
        starts_at=chicago(MONDAY, 11),
        actor=Actor.staff(personas.front_a),
        source="staff",
        notify=False,
    )
    text("X")
    new.refresh_from_db()
    assert new.status == BOOKED
    assert (
        answers()[-1] == "Reply X again to cancel your visit on Mon, Jan 6 at 11:00 AM at Northside Clinic."
    )
    text("X")
    new.refresh_from_db()
    assert new.status == CANCELLED


def test_a_reply_after_the_visit_started_goes_to_the_inbox(visit: Appointment, clock: Any) -> None:
    text("C")
    clock.move_to(visit.starts_at + timedelta(minutes=1))
    text("X")
    assert len(answers()) == 1
    assert not scheduling_prompts().filter(kind=PromptKind.CANCEL_CONFIRM).exists()


def test_answered_questions_about_two_patients_visits_go_to_staff(
    visit: Appointment, personas: Personas
) -> None:
    from careline.patients.models import PatientPhone, PhoneKind
    from careline.scheduling.tests.appointment_support import Schedule

    sibling = patient_with_phone(personas, "Sibby", "+13125550188")
    PatientPhone.objects.create(patient=sibling, number=PAT_NUMBER, kind=PhoneKind.MOBILE)
    theirs = booked(Schedule(personas, visit.appointment_type), chicago(MONDAY, 11), patient=sibling)
    reminded(theirs)
    scheduling_prompts().update(state=PromptState.ANSWERED)
    text("X")
    note = InternalNote.objects.get(conversation__contact=PAT_NUMBER)
    assert personas.pat.display_name in note.text and sibling.display_name in note.text
    assert not scheduling_prompts().filter(kind=PromptKind.CANCEL_CONFIRM).exists()


@pytest.mark.parametrize("body", ["፩", "²", "①", "٣"])
def test_digits_of_any_script_never_break_reply_handling(visit: Appointment, body: str) -> None:
    # str.isdigit() accepts '፩' (Ethiopic one), which int() refuses: the reply must still be handled.
    text(body)
    visit.refresh_from_db()
    assert visit.status == BOOKED
