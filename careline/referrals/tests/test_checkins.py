"""The follow-through: the check-in N days after sending when nothing happened, replies 1/2/3 through the reply
router in English and Spanish, and the sweep sending once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import override_settings

from careline.core.actor import Actor
from careline.messaging.models import Conversation, InternalNote, Prompt, PromptState
from careline.referrals.models import ProviderKind, Referral, ReferralEvent, ReferralState
from careline.referrals.services.checkins import MAX_CHECKINS, checkins_send_due, reply_choice
from careline.referrals.services.referrals import referral_set_state
from careline.referrals.tests.support import MONDAY_10_CHICAGO, REASON, provider, referred, sent_to, text
from careline.testing.personas import Personas

pytestmark = [pytest.mark.clock(MONDAY_10_CHICAGO)]

WEEK = timedelta(days=7)


@pytest.fixture
def referral(personas: Personas, clock: Any) -> Referral:
    return referred(personas.pat, personas.clinician_a, notify=False)


def _checked_in(clock: Any, after: timedelta = WEEK) -> None:
    clock.shift(after)
    assert checkins_send_due() == 1


def test_no_checkin_before_n_days_then_one_on_the_day(referral: Referral, clock: Any) -> None:
    clock.shift(WEEK - timedelta(minutes=1))
    assert checkins_send_due() == 0
    clock.shift(timedelta(minutes=1))
    assert checkins_send_due() == 1
    assert checkins_send_due() == 0  # claimed: a second sweep sends nothing
    (message,) = sent_to()
    assert (
        message.body
        == "Hi Pat, were you able to book with Lakeside Physio? Reply 1 yes, 2 not yet, 3 need help."
    )
    assert REASON not in message.body
    prompt = Prompt.objects.get(owner="referrals", state=PromptState.OPEN)
    assert prompt.subject_key == f"referral:{referral.pk}"


@override_settings(CARELINE_REFERRAL_CHECKIN_DAYS=3)
def test_the_delay_is_configurable(personas: Personas, clock: Any) -> None:
    referred(personas.pat, personas.clinician_a, notify=False)
    _checked_in(clock, timedelta(days=3))


def test_no_checkin_when_something_happened(referral: Referral, clock: Any) -> None:
    referral_set_state(referral=referral, state=ReferralState.SCHEDULED, actor=Actor.system("test"))
    clock.shift(WEEK * 2)
    assert checkins_send_due() == 0
    assert sent_to() == []


def test_an_acknowledged_referral_is_still_asked(referral: Referral, clock: Any) -> None:
    referral_set_state(referral=referral, state=ReferralState.ACKNOWLEDGED, actor=Actor.system("test"))
    _checked_in(clock)


@pytest.mark.parametrize(
    ("language", "reply", "answer"),
    [
        ("en", "1", "Thank you, we noted that you booked with Lakeside Physio."),
        ("es", "Sí", "Gracias, anotamos que hizo una cita con Lakeside Physio."),
    ],
)
def test_reply_1_marks_the_referral_scheduled_by_the_patient(
    personas: Personas, referral: Referral, clock: Any, language: str, reply: str, answer: str
) -> None:
    personas.pat.language = language
    personas.pat.save()
    _checked_in(clock)
    text(reply)
    referral.refresh_from_db()
    assert (referral.state, referral.next_checkin_at) == (ReferralState.SCHEDULED, None)
    event = ReferralEvent.objects.filter(referral=referral).last()
    assert event is not None
    assert (event.source, event.to_state, event.by_id) == ("patient_text", "scheduled", None)
    assert sent_to()[-1].body == answer
    assert Prompt.objects.get(owner="referrals").state == PromptState.ANSWERED


@pytest.mark.parametrize(
    ("language", "reply", "answer"),
    [
        ("en", "2", "Thanks. We will check in again in 7 days. Lakeside Physio: +13125550199"),
        ("es", "2 todavía no", "Gracias. Le preguntaremos de nuevo en 7 días. Lakeside Physio: +13125550199"),
    ],
)
def test_reply_2_plans_another_checkin_later(
    personas: Personas, referral: Referral, clock: Any, language: str, reply: str, answer: str
) -> None:
    personas.pat.language = language
    personas.pat.save()
    _checked_in(clock)
    text(reply)
    referral.refresh_from_db()
    assert referral.state == ReferralState.SENT
    assert referral.next_checkin_at == MONDAY_10_CHICAGO + 2 * WEEK
    assert sent_to()[-1].body == answer
    clock.shift(WEEK - timedelta(hours=1))
    assert checkins_send_due() == 0
    clock.shift(timedelta(hours=1))
    assert checkins_send_due() == 1
    if language == "es":
        assert sent_to()[-1].body.startswith("Hola Pat, ¿pudo hacer una cita con Lakeside Physio?")


def test_checkins_stop_after_the_last_not_yet(referral: Referral, clock: Any) -> None:
    for _ in range(MAX_CHECKINS):
        _checked_in(clock)
        text("2")
    referral.refresh_from_db()
    assert (referral.checkins_sent, referral.next_checkin_at) == (MAX_CHECKINS, None)


@pytest.mark.parametrize(
    ("language", "reply", "answer"),
    [
        ("en", "3", "Thanks, someone from Northside Clinic will contact you to help you book."),
        (
            "es",
            "3",
            "Gracias, alguien de Northside Clinic se comunicará con usted para ayudarle a hacer la cita.",
        ),
    ],
)
def test_reply_3_flags_the_conversation_for_staff(
    personas: Personas, referral: Referral, clock: Any, language: str, reply: str, answer: str
) -> None:
    personas.pat.language = language
    personas.pat.save()
    _checked_in(clock)
    inbound = text(reply)
    referral.refresh_from_db()
    assert referral.needs_help and referral.state == ReferralState.SENT
    conversation = Conversation.objects.get(pk=inbound.conversation_id)
    assert conversation.flagged
    note = InternalNote.objects.get(conversation=conversation)
    assert "help booking" in note.text and REASON not in note.text
    assert sent_to()[-1].body == answer


def test_a_mental_health_checkin_and_its_answers_carry_988(personas: Personas, clock: Any) -> None:
    referred(personas.pat, personas.clinician_a, provider(ProviderKind.MENTAL_HEALTH), notify=False)
    _checked_in(clock)
    assert sent_to()[-1].body.endswith("call or text 988, any time.")
    text("3")
    assert sent_to()[-1].body.endswith("call or text 988, any time.")


def test_an_unclear_reply_is_asked_again_and_changes_nothing(referral: Referral, clock: Any) -> None:
    _checked_in(clock)
    text("maybe next week")
    referral.refresh_from_db()
    assert referral.state == ReferralState.SENT and not referral.needs_help
    assert sent_to()[-1].body == "Sorry, please reply 1 yes, 2 not yet or 3 need help."
    assert Prompt.objects.get(owner="referrals").state == PromptState.OPEN


def test_a_patient_opted_out_is_not_texted(personas: Personas, referral: Referral, clock: Any) -> None:
    from careline.messaging.models import Message, MessageState

    text("STOP")
    clock.shift(WEEK)
    assert checkins_send_due() == 0
    assert (
        not Message.objects.filter(direction=Message.Direction.OUTBOUND, body__contains="were you able")
        .exclude(state=MessageState.SUPPRESSED)
        .exists()
    )


@pytest.mark.parametrize(
    ("body", "choice"),
    [("1", "1"), (" yes!", "1"), ("Sí", "1"), ("si", "1"), ("2", "2"), ("No", "2"), ("aún no", "2"),
     ("3 please", "3"), ("AYUDA", "3"), ("", None), ("4", None), ("booked it", None)],
)  # fmt: skip
def test_reply_choice_reads_digits_and_words_in_english_and_spanish(body: str, choice: str | None) -> None:
    assert reply_choice(body) == choice


def test_the_checkin_sweep_runs_on_beat_by_its_registered_name() -> None:
    from careline.celery import _beat_schedule, app

    assert "referrals.send_checkins" in {entry["task"] for entry in _beat_schedule().values()}
    assert "referrals.send_checkins" in app.tasks


def test_the_beat_task_sends_what_is_due(referral: Referral, clock: Any) -> None:
    from careline.referrals.tasks import send_referral_checkins

    clock.shift(WEEK)
    assert send_referral_checkins.apply().get() == 1
    assert send_referral_checkins.apply().get() == 0
    assert len(sent_to()) == 1
