"""Replies C (confirm) and X (cancel, asked twice) to a reminder; CANCEL opts out and never cancels a visit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine

from careline.messaging.models import Conversation, PromptState
from careline.patients.services.registry import CONSENT_REVOKED, consent_state
from careline.scheduling.models import (
    AppointmentStatus,
    AppointmentStatusChange,
    ChangeSource,
    WaitlistEntry,
    WaitlistOffer,
)
from careline.scheduling.prompts import (
    PromptKind,
    appointment_subject,
    scheduling_prompts,
)
from careline.scheduling.services.replies import reply_word
from careline.scheduling.tests.replies_support import (
    MONDAY,
    NOW,
    PAT_NUMBER,
    answers,
    booked,
    chicago,
    patient_with_phone,
    reminded_visit,
    setup,
    text,
)
from careline.testing.personas import Personas

pytestmark = [pytest.mark.clock(NOW)]


@pytest.fixture
def visit(personas: Personas, clock: Any) -> Any:
    return reminded_visit(personas)


def test_reply_words_ignore_case_spaces_and_punctuation() -> None:
    assert reply_word("  c. ") == "C"
    assert reply_word("X!") == "X"
    assert reply_word("¡2!") == "2"


def test_c_confirms_the_visit_and_thanks_the_patient(visit: Any) -> None:
    text(" c. ")
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CONFIRMED
    change = AppointmentStatusChange.objects.filter(appointment=visit).last()
    assert change is not None and change.source == ChangeSource.TEXT
    assert answers()[-1].startswith("Thank you, Pat. Your visit on Mon, Jan 6 at 9:00 AM at Northside Clinic")
    assert (
        not scheduling_prompts()
        .filter(subject_key=appointment_subject(visit.pk), state=PromptState.OPEN)
        .exists()
    )


def test_x_asks_once_before_cancelling(visit: Any) -> None:
    text("X")
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED
    assert answers()[-1] == "Reply X again to cancel your visit on Mon, Jan 6 at 9:00 AM at Northside Clinic."
    prompt = scheduling_prompts().get(subject_key=appointment_subject(visit.pk), state=PromptState.OPEN)
    assert prompt.kind == PromptKind.CANCEL_CONFIRM


def test_x_twice_cancels_tells_the_patient_and_offers_the_slot_once(
    visit: Any, personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    waiting = patient_with_phone(personas, "Wendy", "+13125550177")
    WaitlistEntry.objects.create(patient=waiting, appointment_type=visit.appointment_type)
    text("X")
    with django_capture_on_commit_callbacks(execute=True):
        text("x")
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CANCELLED_PATIENT
    assert AppointmentStatusChange.objects.filter(appointment=visit).last().source == ChangeSource.TEXT  # type: ignore[union-attr]
    assert "is cancelled" in answers()[-1]
    assert WaitlistOffer.objects.filter(entry__patient=waiting, starts_at=visit.starts_at).count() == 1
    assert len(answers("+13125550177")) == 1


def test_a_confirm_after_the_cancel_question_confirms_instead(visit: Any) -> None:
    text("X")
    text("C")
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CONFIRMED


def test_cancel_keyword_opts_out_and_leaves_the_visit_booked(visit: Any) -> None:
    text("CANCEL")
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED
    assert consent_state(PAT_NUMBER) == CONSENT_REVOKED
    assert Conversation.objects.get(contact=PAT_NUMBER).visit_cancel_suspected


def test_reply_words_are_configurable(visit: Any, settings: Any) -> None:
    settings.CARELINE_REPLY_CONFIRM = "OK"
    text("C")
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED
    text("ok")
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CONFIRMED


def test_a_reply_without_a_question_goes_to_the_inbox(personas: Personas, clock: Any) -> None:
    schedule = setup(personas)
    appointment = booked(schedule, chicago(MONDAY, 9))  # no reminder sent: nothing to answer
    text("C")
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED
    assert answers() == []


def test_a_reply_once_the_visit_has_started_goes_to_the_inbox(visit: Any) -> None:
    # A reminder's question expires when the visit starts; until then C, R and X act on it.
    with time_machine.travel(visit.starts_at + timedelta(minutes=5), tick=False):
        text("C")
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED
