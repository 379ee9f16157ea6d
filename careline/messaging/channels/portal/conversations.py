"""Portal conversations: the threads a signed-in patient has with the care team, kept on the portal channel.

Each patient has at most one conversation per topic: their messages with the care team ("") and the help
chat ("help"). A conversation's contact names the patient (never a phone or an address), so the inbox
lists it like a text conversation, linked to the patient from the start. What the patient writes is an
inbound message that needs attention; what staff write goes through `message_send` like any reply and is
delivered by storing (the type's send); what the portal's assistant answers is stored delivered at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from django.db import transaction
from django.db.models import F, QuerySet, Value
from django.utils import timezone

from careline.messaging.channels.portal.type import PORTAL_CHANNEL, PortalType
from careline.messaging.conversation_facts import conversation_facts
from careline.messaging.models import (
    Channel,
    Conversation,
    Message,
    MessageKind,
    MessageState,
)
from careline.messaging.outbound.compose import message_body_checked
from careline.messaging.services.inbound import patient_preview
from careline.patients.models import Patient

MESSAGES_TOPIC = ""
HELP_TOPIC = "help"
TOPICS = (MESSAGES_TOPIC, HELP_TOPIC)
CONTACT_PREFIX = "patient:"
# What the patient sees of a thread: what they wrote, and what was delivered to them.
VISIBLE_STATES = (MessageState.RECEIVED, MessageState.DELIVERED)


def portal_channel() -> Channel:
    """The portal's channel (made by Careline on first use: there is nothing to configure)."""
    channel = Channel.objects.filter(type_code=PortalType.code).order_by("pk").first()
    if channel is None:
        channel, _ = Channel.objects.get_or_create(type_code=PortalType.code, defaults=dict(PORTAL_CHANNEL))
    return channel


def portal_contact(patient_id: int, topic: str = MESSAGES_TOPIC) -> str:
    """The contact of the patient's portal conversation on TOPIC."""
    if topic not in TOPICS:
        raise ValueError(f"unknown portal topic {topic!r}")
    return f"{CONTACT_PREFIX}{patient_id}" + (f":{topic}" if topic else "")


def portal_topic(conversation: Conversation) -> str:
    """The topic of a portal conversation ("" for messages with the care team, "help" for the help chat)."""
    _, _, rest = conversation.contact.partition(CONTACT_PREFIX)
    _, _, topic = rest.partition(":")
    return topic


def portal_conversation(*, patient: Patient, topic: str = MESSAGES_TOPIC) -> Conversation:
    """The patient's portal conversation on TOPIC, created (linked to the patient) on first use."""
    channel = portal_channel()
    conversation, _ = Conversation.objects.select_related("channel").get_or_create(
        channel=channel,
        contact=portal_contact(patient.pk, topic),
        defaults={"patient": patient, "location_id": patient.primary_location_id},
    )
    return conversation


def portal_conversations_of(patient_id: int) -> QuerySet[Conversation]:
    """The patient's portal conversations, newest activity first."""
    return Conversation.objects.filter(
        channel__type_code=PortalType.code,
        patient_id=patient_id,
        contact__startswith=f"{CONTACT_PREFIX}{patient_id}",
    ).order_by(F("last_message_at").desc(nulls_last=True), "-pk")


def portal_thread(conversation: Conversation, *, limit: int = 200) -> list[Message]:
    """What the patient sees of CONVERSATION, oldest first (the latest LIMIT messages)."""
    newest = list(
        Message.objects.filter(conversation=conversation, state__in=VISIBLE_STATES).order_by(
            "-created_at", "-pk"
        )[:limit]
    )
    return newest[::-1]


def portal_patient_message(
    *, conversation: Conversation, body: str, media: Sequence[dict[str, str]] = ()
) -> Message:
    """Store what the patient wrote in the portal: an inbound message in CONVERSATION that staff must read.

    No keywords or reply routing: a signed-in patient's words are for people (STOP here is not an opt-out
    of texts). MessageRefused when the text is empty (without files) or too long.
    """
    body = message_body_checked(body, media=media)
    now = timezone.now()
    with transaction.atomic():
        message = Message.objects.create(
            conversation=conversation,
            channel_id=conversation.channel_id,
            patient_id=conversation.patient_id,
            direction=Message.Direction.INBOUND,
            kind=MessageKind.PATIENT,
            to_address=PORTAL_CHANNEL["address"],
            from_address=conversation.contact,
            body=body,
            media=list(media),
            state=MessageState.RECEIVED,
            provider_message_id=f"PORTAL{uuid.uuid4().hex}",
            processed_at=now,
        )
        Conversation.objects.filter(pk=conversation.pk).update(
            last_message_at=now,
            last_inbound_at=now,
            last_patient_message_at=now,
            last_patient_preview=patient_preview(body, has_media=bool(media)),
            unread_count=F("unread_count") + 1,
            status=Conversation.Status.OPEN,
            updated_at=now,
            **conversation_facts(patient_wrote_at=Value(now)),
        )
    return message


def portal_automatic_answer(*, conversation: Conversation, body: str) -> Message:
    """Store an answer the portal gives by itself (the help assistant's), delivered at once: no notice."""
    now = timezone.now()
    with transaction.atomic():
        message = Message.objects.create(
            conversation=conversation,
            channel_id=conversation.channel_id,
            patient_id=conversation.patient_id,
            direction=Message.Direction.OUTBOUND,
            kind=MessageKind.AUTO_REPLY,
            to_address=conversation.contact,
            from_address=PORTAL_CHANNEL["address"],
            body=body,
            state=MessageState.DELIVERED,
            sent_at=now,
            delivered_at=now,
            finished_at=now,
        )
        Conversation.objects.filter(pk=conversation.pk).update(
            last_message_at=now, updated_at=now, **conversation_facts()
        )
    return message
