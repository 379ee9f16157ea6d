"""Answers to surveys: the score (and a comment in the same text), then the optional follow-up comment.

A low score flags the patient's conversation for the location's manager (tag, note, assignment when nobody
has it) through messaging's services; a high score may be invited to leave a public review (a marketing
message: the location turned it on, the patient's marketing consent stands, and they did not complain in the
last COMPLAINT_WINDOW). Handlers run inside the inbound message's transaction; every state change is a
conditional update, so a text processed twice answers once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.utils import timezone

from careline.core.languages import say
from careline.patients.models import Patient, Purpose
from careline.surveys.models import SCALE_RANGE, SurveyRequest, SurveySettings, SurveyState
from careline.surveys.parsing import answer_parse
from careline.surveys.services.sending import COMMENT_LIFETIME, OWNER, SCORE_LIFETIME, survey_subject
from careline.surveys.texts import FOLLOW_UP, REVIEW_INVITE, THANKS, THANKS_LOW

if TYPE_CHECKING:
    from careline.messaging.models import Conversation, Message, Prompt

logger = logging.getLogger(__name__)

COMPLAINT_WINDOW = timedelta(days=90)
COMPLAINT_TAG = "complaint"  # staff tag a conversation with it; it counts as a complaint like a low score
LOW_SCORE_TAG = "survey-low-score"


def patient_complained_recently(patient_id: int, *, now: datetime) -> bool:
    """A low survey score, or a conversation tagged "complaint" with a text from them, in COMPLAINT_WINDOW."""
    from careline.messaging.models import Conversation

    since = now - COMPLAINT_WINDOW
    if SurveyRequest.objects.filter(patient_id=patient_id, low=True, answered_at__gt=since).exists():
        return True
    return Conversation.objects.filter(
        patient_id=patient_id, tags__name=COMPLAINT_TAG, last_patient_message_at__gt=since
    ).exists()


def review_suppression_reason(patient: Patient) -> str:
    """Why messaging would not send PATIENT a marketing text now ('' when it would): its own rule (consent,
    marketing consent, opt-out, landline, deceased, confidential communications), as the recall preview asks."""
    from careline.messaging.models import MessageKind
    from careline.messaging.outbound.policy import patient_sms_number, suppression_reason_for
    from careline.messaging.services.channels import channel_default

    channel = channel_default("sms")
    if channel is None:
        return "no channel for texts"
    return suppression_reason_for(
        channel=channel,
        address=patient_sms_number(patient) or "",
        patient=patient,
        kind=MessageKind.AUTOMATED,
        purpose=Purpose.MARKETING,
    )


def review_invitation_reason(survey: SurveyRequest, config: SurveySettings, *, now: datetime) -> str:
    """Why no review invitation goes after SURVEY ('' when one may)."""
    if not config.review_enabled or not config.review_url:
        return "review invitations off"
    if survey.score is None or survey.score < config.high:
        return "score below the high score"
    if survey.review_invited_at is not None:
        return "already invited"
    suppressed = review_suppression_reason(survey.patient)
    if suppressed:
        return suppressed
    if patient_complained_recently(survey.patient_id, now=now):
        return "complained in the last 90 days"
    return ""


def _answer(
    conversation: Conversation | None, message: Message | None, survey: SurveyRequest, body: str, key: str
) -> None:
    """Send BODY to the patient in the conversation they wrote in; an answer given on the web page is shown there."""
    from careline.messaging.models import MessageKind
    from careline.messaging.outbound.compose import MessageRefused, message_send

    if conversation is None:
        return
    try:
        message_send(
            body=body,
            patient=survey.patient,
            to_address=conversation.contact,
            channel=conversation.channel,
            kind=MessageKind.STAFF,  # a direct answer to the patient's own text
            purpose=Purpose.GENERAL,
            idempotency_key=key,
        )
    except MessageRefused:
        logger.info("survey %s: answer refused", survey.pk)


def review_invite(survey: SurveyRequest, config: SurveySettings, *, now: datetime) -> bool:
    """Invite SURVEY's patient to a public review when they may be (a marketing text); True when sent."""
    from careline.messaging.models import MessageKind, MessageState
    from careline.messaging.outbound.compose import MessageRefused, message_send
    from careline.messaging.template_values import patient_values
    from careline.messaging.templating import TemplateKind, template_render

    if review_invitation_reason(survey, config, now=now):
        return False
    if not SurveyRequest.objects.filter(pk=survey.pk, review_invited_at__isnull=True).update(
        review_invited_at=now
    ):
        return False
    values = patient_values(patient=survey.patient, location=survey.location)
    text = say(REVIEW_INVITE, survey.patient.language).replace("{link}", config.review_url)
    body = template_render(text, values, kind=TemplateKind.ANNOUNCEMENT)
    try:
        message = message_send(
            body=body,
            patient=survey.patient,
            kind=MessageKind.AUTOMATED,
            purpose=Purpose.MARKETING,
            idempotency_key=f"survey:{survey.pk}:review",
        )
    except MessageRefused:
        return False
    return message.state not in (MessageState.SUPPRESSED, MessageState.CANCELLED, MessageState.FAILED)


def _hand_to_manager(
    survey: SurveyRequest, config: SurveySettings | None, conversation: Conversation | None
) -> None:
    """Flag the patient's conversation for the location's manager, with the score (and comment) in a note."""
    from careline.core.actor import Actor
    from careline.messaging.services.conversations import (
        conversation_assign_if_unassigned,
        conversation_flag,
        conversation_tag_automatic,
        internal_note_add_automatic,
    )

    conversation = conversation or survey.conversation
    if conversation is None:
        return
    bottom, top = SCALE_RANGE[survey.scale]
    conversation_flag(conversation=conversation, reason=f"Survey: low score {survey.score} of {top}")
    conversation_tag_automatic(conversation=conversation, name=LOW_SCORE_TAG)
    note = f"Post-visit survey: {survey.score} on a {bottom}–{top} scale."
    if survey.comment:
        note += f" Comment: {survey.comment}"
    internal_note_add_automatic(conversation=conversation, text=note)
    if config is not None and config.manager_id is not None and config.manager is not None:
        conversation_assign_if_unassigned(
            conversation=conversation, assignee=config.manager, actor=Actor.system("survey low score")
        )


def _finish(survey: SurveyRequest, config: SurveySettings | None, *, now: datetime) -> None:
    """The survey is answered: invite a review when it may be."""
    if config is not None and not survey.low:
        review_invite(survey, config, now=now)


def survey_score_record(
    *, survey: SurveyRequest, score: int, comment: str, now: datetime,
    conversation: Conversation | None = None, message: Message | None = None,
) -> bool:  # fmt: skip
    """Record SCORE (and COMMENT) on a sent survey, tell the patient and the manager; False if already scored."""
    config = SurveySettings.objects.select_related("manager").filter(location_id=survey.location_id).first()
    low_mark = config.low if config is not None else None
    low = low_mark is not None and score <= low_mark
    ask_comment = bool(config is not None and config.follow_up and not comment)
    state = SurveyState.COMMENTING if ask_comment else SurveyState.ANSWERED
    if not SurveyRequest.objects.filter(pk=survey.pk, state=SurveyState.SENT).update(
        state=state, score=score, comment=comment, low=low, answered_at=now
    ):
        return False
    survey.refresh_from_db()
    key = f"survey-answer:{message.pk}" if message is not None else f"survey:{survey.pk}:scored"
    language = survey.patient.language
    if ask_comment:
        _answer(conversation, message, survey, say(FOLLOW_UP, language), key)
        if conversation is not None:
            _comment_prompt(survey, conversation, now=now)
    else:
        _answer(conversation, message, survey, say(THANKS_LOW if low else THANKS, language), key)
    if low:
        _hand_to_manager(survey, config, conversation)
    if not ask_comment:
        _finish(survey, config, now=now)
    return True


def survey_comment_record(
    *, survey: SurveyRequest, comment: str, now: datetime,
    conversation: Conversation | None = None, message: Message | None = None,
) -> bool:  # fmt: skip
    """Record the follow-up COMMENT of a scored survey; False when it was not waiting for one."""
    from careline.messaging.services.conversations import internal_note_add_automatic

    comment = comment.strip()[:1000]
    if not comment or not SurveyRequest.objects.filter(pk=survey.pk, state=SurveyState.COMMENTING).update(
        state=SurveyState.ANSWERED, comment=comment
    ):
        return False
    survey.refresh_from_db()
    config = SurveySettings.objects.filter(location_id=survey.location_id).first()
    key = f"survey-answer:{message.pk}" if message is not None else f"survey:{survey.pk}:commented"
    _answer(
        conversation, message, survey, say(THANKS_LOW if survey.low else THANKS, survey.patient.language), key
    )
    target = conversation or survey.conversation
    if survey.low and target is not None:
        internal_note_add_automatic(conversation=target, text=f"Post-visit survey comment: {comment}")
    _finish(survey, config, now=now)
    return True


def _comment_prompt(survey: SurveyRequest, conversation: Conversation, *, now: datetime) -> None:
    from careline.messaging.services.prompts import prompt_record

    prompt_record(
        owner=OWNER,
        kind="comment",
        phone_number=conversation.contact,
        conversation=conversation,
        subject_key=survey_subject(survey.pk),
        expires_at=now + COMMENT_LIFETIME,
    )


def _survey_of(prompt: Prompt) -> SurveyRequest | None:
    key = prompt.subject_key or ""
    if not key.startswith("survey:") or not key[7:].isdigit():
        return None
    return SurveyRequest.objects.select_related("patient", "location").filter(pk=int(key[7:])).first()


def survey_prompt_reply_handle(conversation: Conversation, message: Message, prompt: Prompt) -> bool:
    """A text while a survey's question is the number's newest: a score (maybe with a comment), or the comment.

    Anything that does not start with a score in range is passed on (the inbox gets it), never taken.
    """
    from careline.messaging.models import Prompt as PromptModel
    from careline.messaging.models import PromptState

    survey = _survey_of(prompt)
    if survey is None or prompt.owner != OWNER:
        return False
    now = timezone.now()
    if prompt.kind == "comment":
        if not survey_comment_record(
            survey=survey, comment=message.body or "", now=now, conversation=conversation, message=message
        ):
            return False
        PromptModel.objects.filter(pk=prompt.pk, state=PromptState.OPEN).update(state=PromptState.ANSWERED)
        return True
    bottom, top = SCALE_RANGE[survey.scale]
    parsed = answer_parse(message.body or "", low=bottom, high=top)
    if parsed is None:
        return False
    PromptModel.objects.filter(pk=prompt.pk, state=PromptState.OPEN).update(state=PromptState.ANSWERED)
    return survey_score_record(
        survey=survey,
        score=parsed.score,
        comment=parsed.comment,
        now=now,
        conversation=conversation,
        message=message,
    )


def survey_free_text_handle(conversation: Conversation, message: Message) -> bool:
    """A score texted while another feature's newer question is open: taken only when this conversation has a
    survey waiting for its score and the text starts with one."""
    now = timezone.now()
    survey = (
        SurveyRequest.objects.select_related("patient", "location")
        .filter(conversation=conversation, state=SurveyState.SENT, sent_at__gt=now - SCORE_LIFETIME)
        .order_by("-sent_at")
        .first()
    )
    if survey is None:
        return False
    bottom, top = SCALE_RANGE[survey.scale]
    parsed = answer_parse(message.body or "", low=bottom, high=top)
    if parsed is None:
        return False
    return survey_score_record(
        survey=survey,
        score=parsed.score,
        comment=parsed.comment,
        now=now,
        conversation=conversation,
        message=message,
    )
