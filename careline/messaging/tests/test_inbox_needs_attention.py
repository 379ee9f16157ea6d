"""Needs attention: only a patient's text that a person must read makes a conversation unread; texts Careline
handles itself (keywords, replies a feature answers) and everything outbound leave it, its order by last patient
message and its preview alone."""

from __future__ import annotations

import importlib
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps as django_apps

from careline.messaging.models import Conversation, Message, MessageKind, Prompt
from careline.messaging.outbound.compose import message_send
from careline.messaging.replies import reply_owner_register, reply_owner_unregister
from careline.messaging.services.channels import simulator_channel
from careline.messaging.services.conversations import conversation_flag
from careline.messaging.tests.router_support import NUMBER, OPEN_HOURS, text_from
from careline.messaging.tests.survey_feature import Survey

CLOSED_HOURS = datetime(2026, 3, 4, 22, 0, tzinfo=ZoneInfo("America/Chicago"))


@pytest.fixture(autouse=True)
def clock(open_hours: Any) -> Any:
    return open_hours


def _text(body: str, number: str = NUMBER) -> Conversation:
    return Conversation.objects.get(pk=text_from(body, number).conversation_id)


def test_a_patients_question_needs_attention_and_is_the_preview(personas: Any) -> None:
    conversation = _text("Can I bring my daughter to the visit?")
    assert conversation.unread_count == 1
    assert conversation.last_patient_message_at == OPEN_HOURS
    assert conversation.last_patient_preview == "Can I bring my daughter to the visit?"


@pytest.mark.parametrize("word", ["STOP", "HELP", "START", "stop", "AYUDA"])
def test_keywords_do_not_need_attention_nor_reopen_a_closed_conversation(personas: Any, word: str) -> None:
    Conversation.objects.create(
        channel=simulator_channel(), contact=NUMBER, status=Conversation.Status.CLOSED
    )
    conversation = _text(word)
    assert conversation.unread_count == 0
    assert conversation.status == Conversation.Status.CLOSED
    assert conversation.last_patient_preview == word  # still what the patient last wrote


def test_a_reply_a_feature_answers_does_not_need_attention(personas: Any, survey: Survey) -> None:
    survey.ask(NUMBER)
    conversation = _text("4")
    assert survey.answers and conversation.unread_count == 0
    assert conversation.last_patient_preview == "4"


def test_a_reply_the_feature_declines_needs_attention(personas: Any, survey: Survey) -> None:
    survey.ask(NUMBER)
    assert _text("what is this about?").unread_count == 1


def test_a_reply_a_feature_hands_to_people_needs_attention_once_and_is_flagged(personas: Any) -> None:
    def hand_over(conversation: Conversation, message: Message, prompt: Prompt) -> bool:
        conversation_flag(conversation=conversation, reason="reply could be about two visits")
        return True

    reply_owner_register(code="handover-test", prompt_handler=hand_over)
    try:
        from careline.messaging.services.prompts import prompt_record

        prompt_record(
            owner="handover-test",
            kind="question",
            phone_number=NUMBER,
            options=["1"],
            expires_at=OPEN_HOURS + timedelta(hours=1),
        )
        conversation = _text("1")
    finally:
        reply_owner_unregister("handover-test")
    assert conversation.unread_count == 1
    assert conversation.flagged


def test_a_suspected_opt_out_in_the_patients_words_needs_attention(personas: Any, survey: Survey) -> None:
    assert _text("please stop texting me").unread_count == 1


def test_a_feature_flag_outside_a_text_makes_the_conversation_need_attention(personas: Any) -> None:
    conversation = Conversation.objects.create(channel=simulator_channel(), contact=NUMBER)
    conversation_flag(conversation=conversation, reason="visit moved by the clinic, patient unreachable")
    conversation.refresh_from_db()
    assert conversation.unread_count == 1 and conversation.flagged


def test_after_hours_the_patients_text_needs_attention_and_the_automatic_answer_is_not_the_preview(
    personas: Any, clock: Any
) -> None:
    clock.move_to(CLOSED_HOURS, tick=False)
    conversation = _text("I need a refill", number="+13125550111")  # Pat, location A (closed now)
    assert Message.objects.filter(conversation=conversation, kind=MessageKind.AUTO_REPLY).exists()
    assert conversation.unread_count == 1
    assert conversation.last_patient_preview == "I need a refill"


@pytest.mark.parametrize("kind", [MessageKind.STAFF, MessageKind.AUTOMATED, MessageKind.ANNOUNCEMENT])
def test_outbound_texts_never_need_attention_nor_move_the_patient_order(
    personas: Any, clock: Any, kind: str
) -> None:
    conversation = _text("hello")
    Conversation.objects.filter(pk=conversation.pk).update(unread_count=0)
    clock.shift(timedelta(minutes=5))
    message_send(body="Your visit is tomorrow at 9", patient=personas.pat, to_address=NUMBER, kind=kind)
    conversation.refresh_from_db()
    assert conversation.unread_count == 0
    assert conversation.last_patient_message_at == OPEN_HOURS
    assert conversation.last_patient_preview == "hello"
    assert conversation.last_message_at == OPEN_HOURS + timedelta(minutes=5)


def test_a_long_text_is_cut_in_the_preview(personas: Any) -> None:
    conversation = _text("word " * 100)
    assert len(conversation.last_patient_preview) == 160
    assert conversation.last_patient_preview.endswith("\u2026")


def test_the_migration_fills_the_last_patient_text_of_existing_conversations(
    personas: Any, clock: Any
) -> None:
    conversation = _text("first question")
    clock.shift(timedelta(minutes=1))
    _text("second question")
    clock.shift(timedelta(minutes=1))
    message_send(body="Answer", to_address=NUMBER, kind=MessageKind.STAFF)
    Conversation.objects.filter(pk=conversation.pk).update(
        last_patient_message_at=None, last_patient_preview=""
    )
    migration = importlib.import_module("careline.messaging.migrations.0013_conversation_needs_attention")
    migration.backfill_patient_facts(django_apps, None)
    conversation.refresh_from_db()
    assert conversation.last_patient_message_at == OPEN_HOURS + timedelta(minutes=1)
    assert conversation.last_patient_preview == "second question"
