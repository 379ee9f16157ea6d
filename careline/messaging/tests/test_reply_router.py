"""The reply router: keywords first, then the owner of the newest open prompt, then free-text handlers in their
declared order, then the inbox; reply words are checked against each other and the compliance keywords."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from careline.messaging.models import Conversation, Message, Prompt, PromptState
from careline.messaging.replies import reply_owner_register, reply_owner_unregister, reply_owners
from careline.messaging.services.prompts import prompt_record
from careline.messaging.tests.router_support import NUMBER, OPEN_HOURS, text_from
from careline.messaging.tests.survey_feature import OWNER, SKIP_WORD, Survey
from careline.patients.services.registry import CONSENT_REVOKED, consent_state


@pytest.fixture(autouse=True)
def clock(open_hours: Any) -> Any:
    return open_hours


class Billing:
    """A second test feature, to see two features' prompts on one number."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.free_texts: list[str] = []

    def handle_reply(self, conversation: Conversation, message: Message, prompt: Prompt) -> bool:
        self.received.append(message.body)
        return message.body.strip() == "PAY"

    def handle_free_text(self, conversation: Conversation, message: Message) -> bool:
        self.free_texts.append(message.body)
        return False


@pytest.fixture
def billing() -> Iterator[Billing]:
    feature = Billing()
    reply_owner_register(
        code="billing-test",
        prompt_handler=feature.handle_reply,
        free_text_handler=feature.handle_free_text,
        free_text_order=20,
        words={"BILLING_PAY": "PAY"},
    )
    yield feature
    reply_owner_unregister("billing-test")


def _text(body: str) -> Message:
    return text_from(body)


def _billing_prompt(clock: Any) -> Prompt:
    clock.shift(timedelta(seconds=1))  # strictly newer than what was asked before
    return prompt_record(
        owner="billing-test",
        kind="statement",
        phone_number=NUMBER,
        options=["PAY"],
        expires_at=OPEN_HOURS + timedelta(days=1),
    )


def test_a_feature_registered_only_in_tests_receives_the_answer_to_its_question(survey: Survey) -> None:
    prompt = survey.ask(NUMBER)
    _text(" 4 ")
    assert survey.answers == [(prompt.pk, "4")]
    prompt.refresh_from_db()
    assert prompt.state == PromptState.ANSWERED
    # Handled: nothing else answered the number (no after-hours or other reply).
    assert not Message.objects.filter(direction=Message.Direction.OUTBOUND).exists()


def test_a_reply_the_feature_declines_goes_on_to_the_inbox(survey: Survey) -> None:
    prompt = survey.ask(NUMBER)
    _text("what is this about?")
    assert survey.prompt_calls == 1 and survey.answers == []
    assert survey.free_texts == []  # an owner already asked about its prompt is not asked again
    prompt.refresh_from_db()
    assert prompt.state == PromptState.OPEN
    conversation = Conversation.objects.get(contact=NUMBER)
    assert conversation.unread_count == 1 and conversation.status == Conversation.Status.OPEN


@pytest.mark.parametrize("word", ["STOP", "HELP", "START", "stop", "AYUDA"])
def test_keywords_are_never_routed_to_a_feature(survey: Survey, word: str) -> None:
    survey.ask(NUMBER)
    _text(word)
    assert survey.prompt_calls == 0 and survey.free_texts == []


def test_stop_still_opts_out_while_a_question_is_open(survey: Survey) -> None:
    survey.ask(NUMBER)
    _text("STOP")
    assert consent_state(NUMBER) == CONSENT_REVOKED
    assert Prompt.objects.get(owner=OWNER).state == PromptState.OPEN


def test_an_expired_question_gets_no_reply(survey: Survey, clock: Any) -> None:
    survey.ask(NUMBER, minutes=30)
    clock.shift(timedelta(minutes=31))
    _text("5")
    assert survey.prompt_calls == 0 and survey.answers == []
    assert survey.free_texts == ["5"]  # free text, which the survey does not take


def test_the_newest_open_prompt_wins_and_the_older_stays_open(
    survey: Survey, billing: Billing, clock: Any
) -> None:
    older = survey.ask(NUMBER)
    newer = _billing_prompt(clock)
    _text("PAY")
    assert billing.received == ["PAY"] and survey.prompt_calls == 0
    older.refresh_from_db()
    assert older.state == PromptState.OPEN  # still open: answered later, by staff, or it expires
    assert newer.pk != older.pk


def test_the_older_feature_is_not_handed_an_answer_to_the_newer_question(
    survey: Survey, billing: Billing, clock: Any
) -> None:
    older = survey.ask(NUMBER)
    _billing_prompt(clock)
    _text("3")  # a rating, but the newest question is billing's: billing declines, then free text, then inbox
    assert billing.received == ["3"]
    assert survey.prompt_calls == 0 and survey.answers == []
    assert survey.free_texts == ["3"]
    older.refresh_from_db()
    assert older.state == PromptState.OPEN
    assert Conversation.objects.get(contact=NUMBER).unread_count == 1


def test_when_the_newer_question_is_answered_the_older_one_gets_replies_again(
    survey: Survey, billing: Billing, clock: Any
) -> None:
    older = survey.ask(NUMBER)
    newer = _billing_prompt(clock)
    Prompt.objects.filter(pk=newer.pk).update(state=PromptState.ANSWERED)
    _text("2")
    assert survey.answers == [(older.pk, "2")] and billing.received == []


def test_free_text_handlers_are_asked_in_their_declared_order(survey: Survey, billing: Billing) -> None:
    _text("survey please")
    assert billing.free_texts == ["survey please"]  # order 20 before the survey's 50
    assert survey.free_texts == ["survey please"]
    codes = [owner.code for owner in reply_owners()]
    assert codes.index("scheduling") < codes.index("billing-test") < codes.index(OWNER)


def test_a_prompt_of_a_feature_not_registered_is_skipped(survey: Survey) -> None:
    prompt_record(owner="gone", kind="x", phone_number=NUMBER, expires_at=OPEN_HOURS + timedelta(hours=1))
    _text("survey please")
    assert survey.free_texts == ["survey please"]


# --- reply words ---------------------------------------------------------------------------------------


def _register(words: dict[str, str]) -> None:
    reply_owner_register(code="words-test", prompt_handler=lambda c, m, p: False, words=words)


@pytest.fixture
def cleanup() -> Iterator[None]:
    yield
    reply_owner_unregister("words-test")


@pytest.mark.parametrize("word", ["STOP", "cancel", "Yes", "HELP", "INFO", "ALTO", "START"])
def test_a_compliance_keyword_cannot_be_a_reply_word(cleanup: None, word: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=r"WORDS_TEST_ANSWER: .* compliance keyword"):
        _register({"WORDS_TEST_ANSWER": word})


def test_a_reply_word_of_another_feature_is_refused(cleanup: None, settings: Any) -> None:
    with pytest.raises(
        ImproperlyConfigured, match="C is already the reply word CARELINE_REPLY_CONFIRM of scheduling"
    ):
        _register({"WORDS_TEST_ANSWER": "c"})


def test_reply_words_of_one_feature_must_differ(cleanup: None) -> None:
    with pytest.raises(ImproperlyConfigured, match="must differ"):
        _register({"WORDS_TEST_A": "Q", "WORDS_TEST_B": "q"})


@pytest.mark.parametrize("word", ["", "TWO WORDS", "ELEVENCHARS", "A!"])
def test_a_reply_word_is_one_short_word(cleanup: None, word: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="one short word"):
        _register({"WORDS_TEST_ANSWER": word})


def test_distinct_words_register(cleanup: None, survey: Survey) -> None:
    _register({"WORDS_TEST_ANSWER": "Q"})
    assert {o.code for o in reply_owners()} >= {"scheduling", OWNER, "words-test"}
    assert SKIP_WORD == "S"
