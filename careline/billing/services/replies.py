"""Patients' replies to billing texts, through messaging's reply router (owner "billing").

A billing text sent by SMS records a prompt. The plan word (settings.CARELINE_REPLY_PLAN, "PLAN") opens an
"Asked for a payment plan" task on the billing worklist and thanks the patient; any other reply stays in the
inbox, tagged "billing", with a note naming the statement, for staff to answer.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext

from careline.billing.models import BillingTask, Statement, TaskKind
from careline.messaging.keywords import normalize_keyword
from careline.messaging.models import Conversation, Message, MessageKind, Prompt, PromptState
from careline.messaging.outbound.compose import MessageRefused, message_send
from careline.messaging.services.conversations import conversation_tag_automatic, internal_note_add_automatic
from careline.messaging.services.prompts import prompt_record
from careline.messaging.template_values import clinic_name_for
from careline.patients.models import Purpose

OWNER = "billing"
PROMPT_KIND = "statement"
PROMPT_DAYS = 30
TAG = "billing"


def billing_prompt_record(*, message: Message, statement: Statement) -> Prompt | None:
    """Let replies to MESSAGE (a billing text about STATEMENT) reach billing; None for an email or a letter."""
    if message.to_address.startswith("+") is False or message.state == "suppressed":
        return None
    return prompt_record(
        owner=OWNER,
        kind=PROMPT_KIND,
        phone_number=message.to_address,
        conversation=message.conversation,
        message=message,
        options=[settings.CARELINE_REPLY_PLAN],
        subject_key=f"billing-statement:{statement.pk}",
        expires_at=timezone.now() + timedelta(days=PROMPT_DAYS),
    )


def plan_word_hint(language: str) -> str:
    """The sentence a billing text ends with, offering a plan by reply."""
    with translation.override(language or "en"):
        return gettext("Reply %(word)s to ask for a payment plan.") % {"word": settings.CARELINE_REPLY_PLAN}


def _statement_of(prompt: Prompt) -> Statement | None:
    try:
        statement_id = int(prompt.subject_key.split(":", 1)[1])
    except (IndexError, ValueError):
        return None
    return Statement.objects.filter(pk=statement_id).select_related("patient__primary_location").first()


def billing_prompt_reply_handle(conversation: Conversation, message: Message, prompt: Prompt) -> bool:
    """A reply to a billing text: PLAN opens a worklist task (handled); anything else goes to staff, tagged."""
    statement = _statement_of(prompt)
    conversation_tag_automatic(conversation=conversation, name=TAG)
    if statement is None:
        return False
    if normalize_keyword(message.body) != normalize_keyword(settings.CARELINE_REPLY_PLAN):
        internal_note_add_automatic(
            conversation=conversation, text=f"Reply to a billing text about statement {statement.number}."
        )
        return False
    Prompt.objects.filter(pk=prompt.pk).update(state=PromptState.ANSWERED)
    BillingTask.objects.get_or_create(
        source_key=f"plan-request:{prompt.pk}",
        defaults={
            "patient_id": statement.patient_id,
            "kind": TaskKind.PLAN_REQUEST,
            "statement": statement,
            "created_at": timezone.now(),
        },
    )
    internal_note_add_automatic(
        conversation=conversation,
        text=f"Asked for a payment plan for statement {statement.number}: a task is on the billing worklist.",
    )
    language = conversation.patient.language if conversation.patient else "en"
    with translation.override(language or "en"):
        body = gettext("%(clinic)s: thank you. Our billing team will contact you about a payment plan.") % {
            "clinic": clinic_name_for(statement.patient.primary_location, language)
        }
    with contextlib.suppress(MessageRefused):  # the task is on the worklist either way
        message_send(
            body=body,
            patient=conversation.patient,
            to_address=conversation.contact,
            channel=conversation.channel,
            kind=MessageKind.AUTOMATED,
            purpose=Purpose.BILLING,
            idempotency_key=f"billing-plan-request-{prompt.pk}",
        )
    return True
