"""The portal's Messages and Help pages: sending with files, reading staff replies, unread counts, scoping."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase
from django.urls import reverse

from careline.core.models import ActorKind, AuditEntry
from careline.messaging.channels.portal.conversations import (
    HELP_TOPIC,
    portal_conversation,
    portal_patient_message,
)
from careline.messaging.models import Conversation, Message, MessageKind
from careline.messaging.outbound.compose import message_send
from careline.portal.models import FaqEntry
from careline.testing.personas import sign_in
from careline.testing.portal import portal_account_for, portal_caregiver_account, portal_sign_in

NOON_CHICAGO = datetime(2026, 3, 4, 18, 0, tzinfo=UTC)  # Wednesday 12:00: Pat's clinic is open
NIGHT_CHICAGO = datetime(2026, 3, 5, 3, 30, tzinfo=UTC)  # Wednesday 21:30: closed

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"

pytestmark = [pytest.mark.clock(NOON_CHICAGO), pytest.mark.usefixtures("clock")]


@pytest.fixture
def pat_client(personas):
    return portal_sign_in(Client(), portal_account_for(personas.pat))


def _staff_reply(conversation: Conversation, body: str) -> Message:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return message_send(
            body=body,
            patient=conversation.patient,
            to_address=conversation.contact,
            channel=conversation.channel,
            kind=MessageKind.STAFF,
        )


def test_a_patient_writes_with_a_file_and_it_lands_in_the_staff_inbox(personas, pat_client):
    response = pat_client.post(
        reverse("portal:messages"),
        {"text": "Here is my referral", "attachments": [SimpleUploadedFile("referral.pdf", PDF)]},
    )
    assert response.status_code == 302
    conversation = Conversation.objects.get(patient=personas.pat, channel__type_code="portal")
    assert response["Location"].startswith(reverse("portal:message_thread", args=[conversation.pk]))
    message = Message.objects.get(conversation=conversation)
    assert message.body == "Here is my referral"
    assert message.media[0]["content_type"] == "application/pdf"
    assert conversation.unread_count == 1
    entry = AuditEntry.objects.get(object_type="messaging.message", object_id=str(message.pk))
    assert entry.actor_kind == ActorKind.PATIENT

    staff = sign_in(Client(), personas.front_a)
    page = staff.get(reverse("messaging:conversation", args=[conversation.pk])).content.decode()
    assert "Here is my referral" in page
    name = message.media[0]["file"].split("/", 1)[1]
    assert staff.get(reverse("messaging:media", args=[conversation.pk, name])).status_code == 200
    other = sign_in(Client(), personas.front_b)
    assert other.get(reverse("messaging:media", args=[conversation.pk, name])).status_code in (403, 404)


def test_a_file_that_is_not_what_it_claims_is_refused_and_nothing_is_stored(personas, pat_client):
    response = pat_client.post(
        reverse("portal:messages"),
        {"text": "My photo", "attachments": [SimpleUploadedFile("photo.png", b"MZ\x90\x00 an executable")]},
    )
    assert response.status_code == 400
    assert "Attach a PDF, JPEG or PNG file." in response.content.decode()
    assert not Message.objects.exists()
    assert pat_client.post(reverse("portal:messages"), {"text": "  "}).status_code == 400


def test_staff_replies_show_in_the_thread_unread_until_opened(personas, pat_client):
    conversation = portal_conversation(patient=personas.pat)
    portal_patient_message(conversation=conversation, body="Hello")
    _staff_reply(conversation, "We have your referral.")
    _staff_reply(conversation, "The doctor will call you.")
    listing = pat_client.get(reverse("portal:messages")).content.decode()
    assert "2 unread" in listing
    home = pat_client.get(reverse("portal:home")).content.decode()
    assert "Unread messages" in home and "2 unread messages" in home
    thread = pat_client.get(reverse("portal:message_thread", args=[conversation.pk]))
    assert thread.status_code == 200
    page = thread.content.decode()
    assert "We have your referral." in page and "The doctor will call you." in page
    assert "unread" not in pat_client.get(reverse("portal:messages")).content.decode()
    assert "No unread messages." in pat_client.get(reverse("portal:home")).content.decode()


def test_a_reply_from_the_thread_goes_to_the_same_conversation(personas, pat_client):
    conversation = portal_conversation(patient=personas.pat)
    response = pat_client.post(reverse("portal:message_thread", args=[conversation.pk]), {"text": "Thanks!"})
    assert response.status_code == 302
    assert Message.objects.get(conversation=conversation).body == "Thanks!"


def test_urgent_words_in_a_secure_message_bring_the_emergency_guidance(personas, pat_client):
    response = pat_client.post(reverse("portal:messages"), {"text": "I took an overdose"}, follow=True)
    page = response.content.decode()
    assert "911" in page and "988" in page
    conversation = Conversation.objects.get(patient=personas.pat, channel__type_code="portal")
    assert conversation.flagged
    assert "urgent" in set(conversation.tags.values_list("name", flat=True))


def test_patient_b_cannot_read_patient_as_thread_or_file(personas):
    conversation = portal_conversation(patient=personas.pat)
    from careline.messaging.services.attachments import media_save

    file = media_save(conversation_id=conversation.pk, data=PDF, extension="pdf")
    portal_patient_message(
        conversation=conversation,
        body="Private",
        media=[{"content_type": "application/pdf", "file": file, "state": "copied", "name": "x.pdf"}],
    )
    name = file.split("/", 1)[1]
    quinn = portal_sign_in(Client(), portal_account_for(personas.quinn, email="quinn@example.test"))
    assert quinn.get(reverse("portal:message_thread", args=[conversation.pk])).status_code == 404
    assert quinn.get(reverse("portal:message_file", args=[conversation.pk, name])).status_code == 404
    # Quinn's own conversation with Pat's file name: not found either.
    own = portal_conversation(patient=personas.quinn)
    assert quinn.get(reverse("portal:message_file", args=[own.pk, name])).status_code == 404
    pat = portal_sign_in(Client(), portal_account_for(personas.pat))
    download = pat.get(reverse("portal:message_file", args=[conversation.pk, name]))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert download.content == PDF
    assert pat.get(reverse("portal:message_file", args=[conversation.pk, "guess.pdf"])).status_code == 404


def test_a_caregiver_with_messages_reads_and_writes_as_the_caregiver(personas):
    caregiver = portal_caregiver_account(personas.pat_caregiver, sections=["messages"])
    client = portal_sign_in(Client(), caregiver)
    assert client.post(reverse("portal:messages"), {"text": "Writing for Pat"}).status_code == 302
    message = Message.objects.get(body="Writing for Pat")
    assert message.patient == personas.pat
    entry = AuditEntry.objects.get(object_type="messaging.message", object_id=str(message.pk))
    assert entry.actor_kind == ActorKind.CAREGIVER
    assert entry.on_behalf_of_id == personas.pat.pk


def test_the_help_button_is_on_portal_pages(personas, pat_client):
    page = pat_client.get(reverse("portal:home")).content.decode()
    assert 'class="portal-help-button' in page
    assert reverse("portal:help") in page


def test_help_chat_for_chest_pain_shows_the_emergency_guidance_at_once(personas, clock):
    clock.move_to(NIGHT_CHICAGO)  # then signed in: the portal signs out after 30 idle minutes
    pat_client = portal_sign_in(Client(), portal_account_for(personas.pat))
    response = pat_client.post(reverse("portal:help"), {"text": "I have chest pain"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'role="alert"' in page and 'href="tel:911"' in page and 'href="sms:988"' in page
    conversation = Conversation.objects.get(contact=f"patient:{personas.pat.pk}:{HELP_TOPIC}")
    assert conversation.flagged


def test_help_chat_after_hours_offers_faq_answers_and_when_staff_reply(personas, clock):
    FaqEntry.objects.create(
        question="Where can I park?", answer="Free parking behind the building.", keywords="parking"
    )
    clock.move_to(NIGHT_CHICAGO)
    pat_client = portal_sign_in(Client(), portal_account_for(personas.pat))
    page = pat_client.post(reverse("portal:help"), {"text": "where do I park my car"}).content.decode()
    assert "Free parking behind the building." in page
    assert "The care team will reply when it opens" in page
    # The transcript keeps the question and the assistant's answer.
    again = pat_client.get(reverse("portal:help")).content.decode()
    assert "where do I park my car" in again


def test_help_chat_in_spanish(personas, clock):
    personas.quinn.language = "es"
    account = portal_account_for(personas.quinn, email="quinn@example.test", language="es")
    client = portal_sign_in(Client(), account)
    page = client.post(reverse("portal:help"), {"text": "Tengo dolor de pecho"}).content.decode()
    assert "llame al 911" in page


def test_a_caregiver_without_messages_may_ask_but_sees_no_transcript(personas, clock):
    conversation = portal_conversation(patient=personas.pat, topic=HELP_TOPIC)
    portal_patient_message(conversation=conversation, body="Pat's own earlier question")
    caregiver = portal_caregiver_account(personas.pat_caregiver, sections=["appointments"])
    client = portal_sign_in(Client(), caregiver)
    page = client.get(reverse("portal:help")).content.decode()
    assert "Pat's own earlier question" not in page
    answer = client.post(reverse("portal:help"), {"text": "How do I reschedule?"})
    assert answer.status_code == 200
    assert "Pat's own earlier question" not in answer.content.decode()
    assert client.get(reverse("portal:messages")).status_code == 404


def test_the_messages_list_costs_a_fixed_number_of_queries(
    personas, pat_client, django_assert_max_num_queries
):
    for topic in ("", HELP_TOPIC):
        conversation = portal_conversation(patient=personas.pat, topic=topic)
        for number in range(5):
            portal_patient_message(conversation=conversation, body=f"Note {number}")
            _staff_reply(conversation, f"Answer {number}")
    pat_client.get(reverse("portal:messages"))
    with django_assert_max_num_queries(14):
        assert pat_client.get(reverse("portal:messages")).status_code == 200
