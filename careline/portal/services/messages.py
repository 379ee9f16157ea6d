"""Secure messages a patient (or their caregiver) writes to the care team from the portal."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.core.files.uploadedfile import UploadedFile

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.messaging.channels.portal.conversations import portal_patient_message
from careline.messaging.models import Conversation, Message
from careline.portal.services.help import (
    attachments_discard,
    attachments_store,
    urgent_handle,
    urgent_phrase_in,
)


@dataclass
class SentMessage:
    message: Message
    guidance: Message | None  # emergency guidance shown at once when the text has urgent words
    on_call_told: bool = False  # urgent words after hours: the clinician on call was paged

    @property
    def urgent(self) -> bool:
        return self.guidance is not None


def portal_message_send(
    *,
    actor: Actor,
    conversation: Conversation,
    text: str,
    attachments: Sequence[UploadedFile] = (),
) -> SentMessage:
    """Store the patient's message (with PDF, JPEG or PNG files) in CONVERSATION, one of theirs, for staff.

    Urgent words flag it urgent and bring emergency guidance, as in the help chat; after hours they page the
    clinician on call like an urgent text. ValidationError for a
    refused file, MessageRefused (a ValueError) for an empty or too long text; nothing is stored then.
    """
    media = attachments_store(conversation, attachments)
    try:
        message = portal_patient_message(conversation=conversation, body=text, media=media)
    except ValueError:
        attachments_discard(media)
        raise
    audit_record(
        action=AuditAction.CREATE,
        actor=actor,
        obj=message,
        patient_id=conversation.patient_id,
        detail="secure message written in the portal" + (f" with {len(media)} file(s)" if media else ""),
    )
    phrase = urgent_phrase_in(text)
    if not phrase:
        return SentMessage(message=message, guidance=None)
    urgent = urgent_handle(conversation=conversation, message=message, phrase=phrase)
    return SentMessage(message=message, guidance=urgent.guidance, on_call_told=urgent.on_call_told)
