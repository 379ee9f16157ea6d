"""Post-visit surveys: planning, the texting window, the 30-day limit, answers by text in two languages, low
and high scores (the manager's flag, review invitations and marketing consent), and the emailed link."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from careline.core.actor import Actor
from careline.messaging.models import Conversation, Message, MessageState, Prompt, PromptState
from careline.patients.models import ConsentKind, ConsentMethod, ContactPreference, Purpose
from careline.patients.services.registry import consent_record
from careline.scheduling.tests.appointment_support import MONDAY, at_a, make_schedule
from careline.surveys.links import answer_link, answer_token_survey
from careline.surveys.models import Scale, SurveyRequest, SurveyState
from careline.surveys.services.sending import OWNER, surveys_expire, surveys_send_due
from careline.surveys.tests.support import (
    MONDAY_8_CHICAGO,
    PAT_NUMBER,
    completed_visit,
    sent_to,
    surveys_on,
    text,
)

pytestmark = pytest.mark.clock(MONDAY_8_CHICAGO)


@pytest.fixture
def schedule(personas: Any) -> Any:
    return make_schedule(personas)


def _sent_survey(personas: Any, schedule: Any, clock: Any, **settings: Any) -> SurveyRequest:
    surveys_on(personas, **settings)
    survey = completed_visit(schedule, clock)
    clock.move_to(survey.due_at, tick=False)
    assert surveys_send_due() == 1
    survey.refresh_from_db()
    return survey


def test_a_completed_visit_is_asked_about_two_hours_later_and_not_before(personas, schedule, clock):
    surveys_on(personas)
    survey = completed_visit(schedule, clock)
    assert survey.state == SurveyState.PLANNED
    assert survey.due_at == at_a(personas, MONDAY, 12, 30)
    clock.move_to(at_a(personas, MONDAY, 12, 29), tick=False)
    assert surveys_send_due() == 0
    clock.move_to(at_a(personas, MONDAY, 12, 30), tick=False)
    assert surveys_send_due() == 1
    survey.refresh_from_db()
    assert survey.state == SurveyState.SENT and survey.channel == "sms"
    [ask] = sent_to()
    assert ask.body.startswith(
        "Hi Pat, how was your visit to Northside Clinic? Please reply with a number from 1"
    )
    prompt = Prompt.objects.get(owner=OWNER, state=PromptState.OPEN)
    assert prompt.subject_key == f"survey:{survey.pk}" and prompt.options == ["1", "2", "3", "4", "5"]
    assert surveys_send_due() == 0  # claimed once


def test_no_survey_where_the_location_does_not_ask(personas, schedule, clock):
    surveys_on(personas, enabled=False)
    with pytest.raises(SurveyRequest.DoesNotExist):
        completed_visit(schedule, clock)


def test_a_survey_due_in_quiet_hours_waits_for_the_texting_window(personas, schedule, clock):
    surveys_on(personas, delay_minutes=5 * 60)
    survey = completed_visit(schedule, clock, hour=16)  # completed 16:30, due 21:30 local
    clock.move_to(survey.due_at, tick=False)
    assert surveys_send_due() == 1
    [ask] = sent_to()
    assert ask.held_for_quiet_hours
    assert ask.due_at == at_a(personas, MONDAY + timedelta(days=1), 8)
    assert ask.state == MessageState.QUEUED


def test_a_patient_is_asked_at_most_once_in_30_days(personas, schedule, clock):
    first = _sent_survey(personas, schedule, clock)
    assert first.state == SurveyState.SENT
    second = completed_visit(schedule, clock, day=MONDAY + timedelta(days=14))
    clock.move_to(second.due_at, tick=False)
    assert surveys_send_due() == 0
    second.refresh_from_db()
    assert second.state == SurveyState.SKIPPED and second.skip_reason == "asked in the last 30 days"
    third = completed_visit(schedule, clock, day=MONDAY + timedelta(days=31))
    clock.move_to(third.due_at, tick=False)
    assert surveys_send_due() == 1
    assert len([m for m in sent_to() if "how was your visit" in m.body]) == 2


def test_a_score_asks_the_follow_up_and_the_comment_ends_the_survey(personas, schedule, clock):
    survey = _sent_survey(personas, schedule, clock)
    text("4")
    survey.refresh_from_db()
    assert survey.state == SurveyState.COMMENTING and survey.score == 4 and not survey.low
    assert sent_to()[-1].body.startswith("Thank you! What is the main reason for your score?")
    text("The nurse was very kind")
    survey.refresh_from_db()
    assert survey.state == SurveyState.ANSWERED and survey.comment == "The nurse was very kind"
    assert sent_to()[-1].body == "Thank you for your answer. It helps us care for you better."
    conversation = Conversation.objects.get(contact=PAT_NUMBER)
    assert not conversation.flagged


def test_a_score_with_words_after_it_is_the_score_and_the_comment(personas, schedule, clock):
    survey = _sent_survey(personas, schedule, clock)
    text("5 - quick and friendly")
    survey.refresh_from_db()
    assert (
        survey.state == SurveyState.ANSWERED and survey.score == 5 and survey.comment == "quick and friendly"
    )


def test_spanish_reply_in_words_and_the_answers_in_spanish(personas, schedule, clock):
    personas.pat.language = "es"
    personas.pat.save()
    survey = _sent_survey(personas, schedule, clock)
    assert sent_to()[0].body.startswith("Hola Pat, ¿cómo fue su visita a Northside Clinic?")
    text("cinco")
    survey.refresh_from_db()
    assert survey.score == 5 and survey.state == SurveyState.COMMENTING
    assert sent_to()[-1].body.startswith("¡Gracias! ¿Cuál es la razón principal de su puntuación?")
    text("Muy amables")
    survey.refresh_from_db()
    assert survey.comment == "Muy amables"
    assert sent_to()[-1].body.startswith("Gracias por su respuesta.")


def test_text_that_is_not_a_score_stays_in_the_inbox(personas, schedule, clock):
    survey = _sent_survey(personas, schedule, clock)
    message = text("Can I get my lab results?")
    survey.refresh_from_db()
    assert survey.state == SurveyState.SENT
    assert Prompt.objects.filter(owner=OWNER, state=PromptState.OPEN).exists()
    assert Conversation.objects.get(pk=message.conversation_id).unread_count >= 1
    text("12")  # out of range for CSAT
    survey.refresh_from_db()
    assert survey.state == SurveyState.SENT


def test_nps_scale_takes_zero_to_ten(personas, schedule, clock):
    survey = _sent_survey(personas, schedule, clock, scale=Scale.NPS, follow_up=False)
    assert "from 0 (not at all) to 10" in sent_to()[0].body
    text("9")
    survey.refresh_from_db()
    assert survey.score == 9 and survey.state == SurveyState.ANSWERED


def test_a_low_score_flags_the_conversation_for_the_locations_manager(personas, schedule, clock):
    survey = _sent_survey(personas, schedule, clock, manager=personas.front_a)
    text("1 waited an hour")
    survey.refresh_from_db()
    assert survey.low and survey.state == SurveyState.ANSWERED
    conversation = Conversation.objects.get(contact=PAT_NUMBER)
    assert conversation.flagged and conversation.assigned_to == personas.front_a
    assert conversation.tags.filter(name="survey-low-score").exists()
    assert conversation.internal_notes.filter(text__contains="waited an hour").exists()
    assert sent_to()[-1].body.startswith("Thank you for telling us.")


def test_the_low_score_threshold_is_configurable(personas, schedule, clock):
    survey = _sent_survey(personas, schedule, clock, low_score=3, follow_up=False)
    text("3")
    survey.refresh_from_db()
    assert survey.low
    assert Conversation.objects.get(contact=PAT_NUMBER).flagged


def _marketing_consent(personas: Any) -> None:
    consent_record(phone_number=PAT_NUMBER, kind=ConsentKind.MARKETING_GIVEN, method=ConsentMethod.FORM,
                   patient=personas.pat, actor=Actor.staff(personas.front_a))  # fmt: skip


REVIEW = {"review_enabled": True, "review_url": "https://reviews.example.test/northside", "follow_up": False}


def test_a_high_score_with_marketing_consent_is_invited_to_review(personas, schedule, clock):
    _marketing_consent(personas)
    survey = _sent_survey(personas, schedule, clock, **REVIEW)
    text("5")
    survey.refresh_from_db()
    assert survey.review_invited_at is not None
    invite = sent_to()[-1]
    assert invite.purpose == Purpose.MARKETING and "https://reviews.example.test/northside" in invite.body


def test_no_review_invitation_without_marketing_consent(personas, schedule, clock):
    survey = _sent_survey(personas, schedule, clock, **REVIEW)
    text("5")
    survey.refresh_from_db()
    assert survey.review_invited_at is None
    assert not Message.objects.filter(purpose=Purpose.MARKETING).exists()


def test_the_review_invitation_asks_messaging_whether_a_marketing_text_may_go(personas, schedule, clock):
    from careline.messaging.models import SuppressionReason
    from careline.surveys.models import SurveySettings
    from careline.surveys.services.answers import review_invitation_reason

    _marketing_consent(personas)
    survey = _sent_survey(personas, schedule, clock, **REVIEW)
    # Marketing consent stands, but messaging's own rule says no texts to this patient.
    personas.pat.confidential_communications = True
    personas.pat.save(update_fields=["confidential_communications"])
    text("5")
    survey.refresh_from_db()
    assert survey.score == 5 and survey.review_invited_at is None
    config = SurveySettings.objects.get(location=personas.location_a)
    assert review_invitation_reason(survey, config, now=timezone.now()) == SuppressionReason.CONFIDENTIAL


def test_no_review_invitation_when_reviews_are_off(personas, schedule, clock):
    _marketing_consent(personas)
    survey = _sent_survey(personas, schedule, clock, follow_up=False)
    text("5")
    survey.refresh_from_db()
    assert survey.review_invited_at is None


def test_no_review_invitation_after_a_complaint_in_the_last_90_days(personas, schedule, clock):
    _marketing_consent(personas)
    first = _sent_survey(personas, schedule, clock, **REVIEW)
    text("1")
    first.refresh_from_db()
    assert first.low
    second = completed_visit(schedule, clock, day=MONDAY + timedelta(days=35))
    clock.move_to(second.due_at, tick=False)
    assert surveys_send_due() == 1
    text("5")
    second.refresh_from_db()
    assert second.score == 5 and second.review_invited_at is None


def test_no_review_invitation_after_a_conversation_tagged_complaint(personas, schedule, clock):
    from careline.messaging.services.conversations import conversation_tag_automatic

    _marketing_consent(personas)
    survey = _sent_survey(personas, schedule, clock, **REVIEW)
    conversation_tag_automatic(conversation=Conversation.objects.get(contact=PAT_NUMBER), name="complaint")
    text("5")
    survey.refresh_from_db()
    assert survey.review_invited_at is None


def test_unanswered_surveys_end_after_three_days(personas, schedule, clock):
    survey = _sent_survey(personas, schedule, clock)
    clock.shift(timedelta(days=3, minutes=1))
    assert surveys_expire() == 1
    survey.refresh_from_db()
    assert survey.state == SurveyState.EXPIRED
    assert not Prompt.objects.filter(owner=OWNER, state=PromptState.OPEN).exists()


def test_an_opted_out_patient_is_not_asked_and_the_limit_is_not_used(personas, schedule, clock):
    consent_record(phone_number=PAT_NUMBER, kind=ConsentKind.REVOKED, method=ConsentMethod.KEYWORD,
                   patient=personas.pat, actor=Actor.system("test"))  # fmt: skip
    surveys_on(personas)
    survey = completed_visit(schedule, clock)
    clock.move_to(survey.due_at, tick=False)
    assert surveys_send_due() == 0
    survey.refresh_from_db()
    assert survey.state == SurveyState.SKIPPED and survey.sent_at is None
    assert survey.skip_reason.startswith("not sent")


def test_a_patient_preferring_email_gets_a_link_and_answers_on_the_page(personas, schedule, clock, client):
    ContactPreference.objects.create(patient=personas.pat, purpose=Purpose.GENERAL, channel="email",
                                     recorded_at=timezone.now())  # fmt: skip
    survey = _sent_survey(personas, schedule, clock)
    assert survey.channel == "email"
    email = Message.objects.get(pk=survey.message_id)
    assert email.to_address == "pat@example.test" and "/surveys/answer?t=" in email.body
    token = email.body.rsplit("?t=", 1)[1].strip()
    assert answer_token_survey(token) == survey.pk
    page = client.get("/surveys/answer", {"t": token})
    assert page.status_code == 200 and "How was your visit?" in page.content.decode()
    assert client.post("/surveys/answer", {"t": token, "score": "9"}).status_code == 400  # out of range
    assert client.post("/surveys/answer", {"t": token, "score": "4", "comment": ""}).status_code == 200
    survey.refresh_from_db()
    assert survey.score == 4 and survey.state == SurveyState.COMMENTING
    client.post("/surveys/answer", {"t": token, "comment": "Clean and calm"})
    survey.refresh_from_db()
    assert survey.state == SurveyState.ANSWERED and survey.comment == "Clean and calm"


def test_a_forged_or_missing_answer_link_shows_that_it_does_not_work(personas, client):
    assert client.get("/surveys/answer").status_code == 404
    assert client.get("/surveys/answer", {"t": "12:forged"}).status_code == 404
    assert answer_token_survey(answer_link(12).rsplit("?t=", 1)[1] + "x") is None
