"""The patient's answer to a recall: the call-back word flags the conversation for the front desk."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from careline.messaging.keywords import normalize_keyword
from careline.messaging.models import Conversation, Message, MessageKind, Prompt, PromptState
from careline.messaging.services.conversations import conversation_flag, internal_note_add_automatic
from careline.messaging.template_values import clinic_name_for
from careline.outreach.models import Recall
from careline.outreach.queries import audience_purpose
from careline.outreach.texts import CALLBACK_ANSWER

OWNER = "outreach"
PROMPT_KIND = "recall-callback"


def _recall_of(prompt: Prompt) -> Recall | None:
    prefix, _, raw = prompt.subject_key.partition(":")
    if prefix != "recall" or not raw.isdigit():
        return None
    return (
        Recall.objects.select_related("patient", "campaign__audience__location").filter(pk=int(raw)).first()
    )


def outreach_prompt_reply_handle(conversation: Conversation, message: Message, prompt: Prompt) -> bool:
    """A reply to a recall: the call-back word asks the front desk to call (a flagged conversation with a
    note, and a thank-you in the patient's language); anything else goes on to the inbox."""
    if prompt.kind != PROMPT_KIND or normalize_keyword(message.body) != settings.CARELINE_REPLY_CALLBACK:
        return False
    recall = _recall_of(prompt)
    if recall is None:
        return False
    from careline.messaging.outbound.compose import message_send

    now = timezone.now()
    patient = recall.patient
    audience = recall.campaign.audience
    with transaction.atomic():
        Prompt.objects.filter(pk=prompt.pk, state=PromptState.OPEN).update(state=PromptState.ANSWERED)
        first = Recall.objects.filter(pk=recall.pk, callback_requested_at__isnull=True).update(
            callback_requested_at=now
        )
        if first:
            conversation_flag(conversation=conversation, reason="asked to be called back to book (recall)")
            internal_note_add_automatic(
                conversation=conversation,
                text=f"Replied {settings.CARELINE_REPLY_CALLBACK} to the recall “{audience.name}”: "
                "call them back to book a visit.",
            )
        message_send(
            body=say_answer(patient.language, audience.location),
            patient=patient,
            to_address=conversation.contact,
            channel=conversation.channel,
            kind=MessageKind.AUTOMATED,
            purpose=audience_purpose(audience),
            idempotency_key=f"recall-callback:{message.pk}",
        )
    return True


def say_answer(language: str, location: object) -> str:
    from careline.core.languages import say

    return say(CALLBACK_ANSWER, language, clinic_name=clinic_name_for(location, language))  # type: ignore[arg-type]
