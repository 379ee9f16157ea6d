"""The portal channel type: installed through the registry, a staff reply is delivered by storing it, and the
patient is told by text or email (without the content), once for several replies within minutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import TestCase
from django.urls import reverse

from careline.core.actor import Actor
from careline.messaging.channels import channel_inbox_label, channel_type, channel_types
from careline.messaging.channels.portal.conversations import (
    HELP_TOPIC,
    portal_automatic_answer,
    portal_conversation,
    portal_conversations_of,
    portal_patient_message,
    portal_thread,
)
from careline.messaging.channels.portal.notices import NOTICE_COALESCE, notice_subject_key
from careline.messaging.channels.portal.type import PortalType
from careline.messaging.models import Conversation, Message, MessageKind, MessageState
from careline.messaging.outbound.compose import MessageRefused, message_send
from careline.patients.models import ContactPreference, Purpose
from careline.testing.personas import sign_in

# A Wednesday, 21:30 in Chicago: after the texting window, so an automated text would be held.
EVENING_CHICAGO = datetime(2026, 3, 5, 3, 30, tzinfo=UTC)
NOON_CHICAGO = datetime(2026, 3, 4, 18, 0, tzinfo=UTC)

pytestmark = [pytest.mark.clock(NOON_CHICAGO), pytest.mark.usefixtures("clock")]


def _staff_reply(conversation: Conversation, body: str, author=None) -> Message:
    with TestCase.captureOnCommitCallbacks(execute=True):
        message = message_send(
            body=body,
            patient=conversation.patient,
            to_address=conversation.contact,
            channel=conversation.channel,
            kind=MessageKind.STAFF,
            author=author,
        )
    message.refresh_from_db()
    return message


def _notices(patient) -> list[Message]:
    return list(Message.objects.filter(subject_key=notice_subject_key(patient.pk)).order_by("pk"))


def test_the_portal_type_is_installed_through_the_registry():
    assert "portal" in channel_types()
    portal = channel_type("portal")
    assert isinstance(portal, PortalType)
    assert portal.stays_in_careline
    assert channel_inbox_label("portal") == "Portal"
    assert channel_inbox_label("simulator") == ""
    assert channel_inbox_label("nonesuch") == ""


def test_a_patient_message_lands_in_the_inbox_linked_and_needing_attention(personas):
    conversation = portal_conversation(patient=personas.pat)
    portal_patient_message(conversation=conversation, body="Is my referral ready?")
    conversation.refresh_from_db()
    assert conversation.patient == personas.pat
    assert conversation.location == personas.location_a
    assert conversation.unread_count == 1
    assert conversation.last_patient_preview == "Is my referral ready?"
    assert conversation.channel.type_code == PortalType.code
    # "STOP" in the portal is words for people, never an opt-out of texts.
    portal_patient_message(conversation=conversation, body="STOP")
    conversation.refresh_from_db()
    assert conversation.unread_count == 2
    assert not Message.objects.filter(direction=Message.Direction.OUTBOUND).exists()
    with pytest.raises(MessageRefused):
        portal_patient_message(conversation=conversation, body="   ")


def test_each_topic_is_its_own_conversation_and_only_the_patients_are_listed(personas):
    messages = portal_conversation(patient=personas.pat)
    help_chat = portal_conversation(patient=personas.pat, topic=HELP_TOPIC)
    quinns = portal_conversation(patient=personas.quinn)
    assert messages.pk != help_chat.pk
    assert portal_conversation(patient=personas.pat).pk == messages.pk
    assert set(portal_conversations_of(personas.pat.pk)) == {messages, help_chat}
    assert quinns not in set(portal_conversations_of(personas.pat.pk))


def test_a_staff_reply_is_delivered_by_storing_and_shown_in_the_thread(personas):
    conversation = portal_conversation(patient=personas.pat)
    portal_patient_message(conversation=conversation, body="Hello")
    reply = _staff_reply(conversation, "Your referral is ready.", author=personas.front_a)
    assert reply.state == MessageState.DELIVERED
    assert reply.delivered_at is not None
    assert [m.body for m in portal_thread(conversation)] == ["Hello", "Your referral is ready."]


def test_the_patient_is_told_by_text_without_the_content(personas):
    conversation = portal_conversation(patient=personas.pat)
    _staff_reply(conversation, "Your lab result: glucose 180", author=personas.front_a)
    [notice] = _notices(personas.pat)
    assert notice.to_address == "+13125550111"
    assert notice.kind == MessageKind.AUTOMATED
    assert "glucose" not in notice.body
    assert "180" not in notice.body
    assert "new message in your patient portal" in notice.body
    assert "/portal/" in notice.body


def test_the_notice_is_in_spanish_for_a_spanish_speaker_and_by_email_when_preferred(personas):
    patient = personas.pat
    patient.language = "es"
    patient.save()
    ContactPreference.objects.create(
        patient=patient, purpose=Purpose.CARE, channel="email", recorded_at=NOON_CHICAGO
    )
    _staff_reply(portal_conversation(patient=patient), "Hola")
    [notice] = _notices(patient)
    assert notice.to_address == "pat@example.test"
    assert "nuevo mensaje" in notice.body
    assert notice.subject


def test_several_replies_within_minutes_make_one_notice(personas, clock):
    conversation = portal_conversation(patient=personas.pat)
    _staff_reply(conversation, "First")
    clock.shift(timedelta(minutes=2))
    _staff_reply(conversation, "Second")
    _staff_reply(portal_conversation(patient=personas.pat, topic=HELP_TOPIC), "Third")
    assert len(_notices(personas.pat)) == 1
    clock.shift(NOTICE_COALESCE + timedelta(minutes=1))
    _staff_reply(conversation, "Much later")
    assert len(_notices(personas.pat)) == 2


def test_the_notice_follows_consent_and_quiet_hours(personas, clock):
    conversation = portal_conversation(patient=personas.quinn)  # no text consent on file
    reply = _staff_reply(conversation, "Hello Quinn")
    assert reply.state == MessageState.DELIVERED  # the portal message itself is not a text
    [notice] = _notices(personas.quinn)
    assert notice.state == MessageState.SUPPRESSED

    clock.move_to(EVENING_CHICAGO)
    _staff_reply(portal_conversation(patient=personas.pat), "Evening reply")
    [held] = _notices(personas.pat)
    assert held.state == MessageState.QUEUED
    assert held.held_for_quiet_hours


def test_a_confidential_patient_still_gets_portal_messages_and_no_notice(personas):
    patient = personas.pat
    patient.confidential_communications = True
    patient.save()
    reply = _staff_reply(portal_conversation(patient=patient), "For your eyes only")
    assert reply.state == MessageState.DELIVERED
    assert [notice.state for notice in _notices(patient)] == [MessageState.SUPPRESSED]


def test_automatic_answers_are_shown_at_once_and_bring_no_notice(personas):
    conversation = portal_conversation(patient=personas.pat, topic=HELP_TOPIC)
    with TestCase.captureOnCommitCallbacks(execute=True):
        answer = portal_automatic_answer(conversation=conversation, body="We open at 8:00.")
    assert answer.state == MessageState.DELIVERED
    assert _notices(personas.pat) == []
    assert portal_thread(conversation) == [answer]


def test_the_inbox_shows_a_portal_conversation_as_such(personas, client):
    conversation = portal_conversation(patient=personas.pat)
    portal_patient_message(conversation=conversation, body="A question from the portal")
    sign_in(client, personas.front_a)
    listing = client.get("/inbox/")
    assert listing.status_code == 200
    assert "Portal" in listing.content.decode()
    url = reverse("messaging:conversation", args=[conversation.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "Portal messages with Pat Ortega" in page.content.decode()
    # The staff reply from the inbox's composer: delivered into the portal.
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(url, {"body": "We will call you."})
    reply = Message.objects.get(conversation=conversation, direction=Message.Direction.OUTBOUND)
    assert reply.state == MessageState.DELIVERED
    assert reply.author == personas.front_a
    assert Actor.staff(personas.front_a).user == reply.author


def test_administrators_are_not_offered_a_portal_channel_to_configure(personas, client):
    sign_in(client, personas.admin)
    listing = client.get(reverse("messaging:channel_list"))
    assert listing.status_code == 200
    assert reverse("messaging:channel_create", args=["portal"]) not in listing.content.decode()
    assert client.get(reverse("messaging:channel_create", args=["portal"])).status_code == 404
