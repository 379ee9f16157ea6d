"""Scheduling's reminders next to another feature's question on the same number (the router's rule: the newest
open question's owner is asked first; what it declines goes on to scheduling's free-text handling)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from careline.messaging.models import PromptState
from careline.messaging.tests.survey_feature import Survey, survey_registered
from careline.scheduling.models import AppointmentStatus
from careline.scheduling.prompts import PromptKind, appointment_subject, scheduling_prompts
from careline.scheduling.tests.replies_support import (
    MONDAY,
    NOW,
    PAT_NUMBER,
    answers,
    booked,
    chicago,
    reminded,
    reminded_visit,
    setup,
    text,
)
from careline.testing.personas import Personas

pytestmark = [pytest.mark.clock(NOW)]


@pytest.fixture
def survey() -> Iterator[Survey]:
    with survey_registered() as feature:
        yield feature


@pytest.fixture
def visit(personas: Personas, clock: Any) -> Any:
    appointment = reminded_visit(personas)
    clock.shift(timedelta(minutes=5))  # the survey's question comes after the reminder
    return appointment


def test_a_newer_survey_question_gets_the_digit_and_the_visit_is_untouched(
    visit: Any, survey: Survey
) -> None:
    prompt = survey.ask(PAT_NUMBER)
    text("2")
    assert survey.answers == [(prompt.pk, "2")]
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED
    assert answers() == []  # scheduling never answered (no slot choices were on offer anyway)
    assert scheduling_prompts().get(subject_key=appointment_subject(visit.pk)).state == PromptState.OPEN


def test_a_reminder_word_declined_by_the_survey_still_confirms_the_visit(visit: Any, survey: Survey) -> None:
    prompt = survey.ask(PAT_NUMBER)
    text("C")
    assert survey.prompt_calls == 1 and survey.answers == []
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CONFIRMED
    assert answers()[-1].startswith("Thank you, Pat.")
    prompt.refresh_from_db()
    assert prompt.state == PromptState.OPEN  # the survey's question waits for its own answer
    assert survey.free_texts == []  # handled by scheduling (order 10) before the survey's free text (50)


def test_a_newer_reminder_question_wins_over_an_older_survey(
    personas: Personas, clock: Any, survey: Survey
) -> None:
    older = survey.ask(PAT_NUMBER, minutes=24 * 60)
    clock.shift(timedelta(minutes=5))
    appointment = booked(setup(personas), chicago(MONDAY, 9))
    reminded(appointment)
    text("X")
    assert survey.prompt_calls == 0
    assert answers()[-1].startswith("Reply X again to cancel")
    assert scheduling_prompts().filter(kind=PromptKind.CANCEL_CONFIRM, state=PromptState.OPEN).count() == 1
    older.refresh_from_db()
    assert older.state == PromptState.OPEN
    text("4")  # the newest open question is scheduling's "cancel?": not a slot choice, and not a rating
    assert survey.prompt_calls == 0 and survey.answers == []  # the survey's question is left for staff
    assert survey.free_texts == ["4"]
    older.refresh_from_db()
    assert older.state == PromptState.OPEN
