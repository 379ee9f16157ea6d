"""A reminder's answers handled by scheduling (C, X) leave the inbox alone; what scheduling cannot handle needs
a person (messaging's needs-attention rules, seen from the feature that answers)."""

from __future__ import annotations

from typing import Any

import pytest

from careline.messaging.models import Conversation
from careline.scheduling.models import AppointmentStatus
from careline.scheduling.tests.replies_support import (
    NOW,
    PAT_NUMBER,
    reminded_visit,
    text,
)
from careline.testing.personas import Personas

pytestmark = [pytest.mark.clock(NOW)]


@pytest.fixture
def visit(personas: Personas, clock: Any) -> Any:
    return reminded_visit(personas)


def _conversation() -> Conversation:
    return Conversation.objects.get(contact=PAT_NUMBER)


def test_confirming_by_text_does_not_need_attention_nor_reopen_the_conversation(visit: Any) -> None:
    text("hello")  # a first text, read by staff who then closed the conversation
    Conversation.objects.filter(contact=PAT_NUMBER).update(unread_count=0, status=Conversation.Status.CLOSED)
    text(" c. ")
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CONFIRMED
    conversation = _conversation()
    assert conversation.unread_count == 0 and conversation.status == Conversation.Status.CLOSED
    assert conversation.last_patient_preview == "c."  # the list still shows what the patient wrote


def test_cancelling_in_two_steps_does_not_need_attention(visit: Any) -> None:
    text("X")
    text("X")
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CANCELLED_PATIENT
    assert _conversation().unread_count == 0


def test_a_question_scheduling_cannot_answer_needs_attention(visit: Any) -> None:
    text("Do I need to bring my insurance card?")
    assert _conversation().unread_count == 1
