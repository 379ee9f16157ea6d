"""The help chat: urgent words at any hour (English and Spanish), staff in opening hours, the FAQ outside them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from careline.core.actor import Actor
from careline.core.models import AuditEntry
from careline.messaging.models import Conversation, ConversationEvent, InternalNote, Message
from careline.messaging.outbound.compose import MessageRefused
from careline.portal.models import FaqEntry, UrgentPhrase
from careline.portal.services.help import (
    HelpOutcome,
    faq_matches,
    help_message_receive,
    text_fold,
    urgent_phrase_in,
)

NOON_CHICAGO = datetime(2026, 3, 4, 18, 0, tzinfo=UTC)  # Wednesday 12:00 in Chicago: open
NIGHT_CHICAGO = datetime(2026, 3, 5, 3, 30, tzinfo=UTC)  # Wednesday 21:30 in Chicago: closed
SUNDAY_CHICAGO = datetime(2026, 3, 8, 17, 0, tzinfo=UTC)  # Sunday 12:00 in Chicago: closed all day

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def faq(db):
    entries = [
        FaqEntry.objects.create(
            language="en",
            question="What are your opening hours?",
            answer="We are open Monday to Friday, 8 to 5.",
            keywords="hours, open, closed, weekend",
        ),
        FaqEntry.objects.create(
            language="en",
            question="How do I get a prescription refill?",
            answer="Ask your pharmacy to send us a refill request.",
            keywords="refill, prescription, medication, pharmacy",
        ),
        FaqEntry.objects.create(
            language="en",
            question="Where can I park?",
            answer="Free parking behind the building.",
            keywords="parking, car",
        ),
        FaqEntry.objects.create(
            language="es",
            question="¿Cómo pido una receta?",
            answer="Pida a su farmacia que nos envíe la solicitud.",
            keywords="receta, medicamento, farmacia",
        ),
        FaqEntry.objects.create(
            language="en",
            question="How do I get a refill of old medication?",
            answer="Hidden answer.",
            keywords="refill",
            is_active=False,
        ),
    ]
    return entries


def _receive(patient, text, **kwargs):
    return help_message_receive(actor=Actor.patient(patient.pk), patient=patient, text=text, **kwargs)


def test_text_is_folded_for_accents_case_and_apostrophes():
    assert text_fold("Can’t  BREATHE!") == "cant breathe"
    assert text_fold("Tengo DOLOR de pécho") == "tengo dolor de pecho"


@pytest.mark.django_db
def test_the_seeded_urgent_phrases_are_there_in_both_languages():
    english = set(UrgentPhrase.objects.filter(language="en").values_list("phrase", flat=True))
    spanish = set(UrgentPhrase.objects.filter(language="es").values_list("phrase", flat=True))
    assert {"chest pain", "can't breathe", "cannot breathe", "suicide", "kill myself", "overdose"} <= english
    assert {"dolor de pecho", "no puedo respirar", "suicidio", "sobredosis"} <= spanish
    assert urgent_phrase_in("I cant breathe well") == "can't breathe"
    assert urgent_phrase_in("Me duele: DOLOR DE PÉCHO") == "dolor de pecho"
    assert urgent_phrase_in("my painting of a chest") == ""
    assert urgent_phrase_in("I need an overdosed refill") == "overdosed"


@pytest.mark.parametrize("moment", [NOON_CHICAGO, NIGHT_CHICAGO])
@pytest.mark.parametrize(
    ("who", "text"), [("pat", "I have chest pain since this morning"), ("quinn", "Tengo dolor de pecho")]
)
def test_urgent_words_show_emergency_guidance_and_flag_urgent_at_any_hour(
    personas, time_machine, moment, who, text
):
    time_machine.move_to(moment)
    patient = getattr(personas, who)
    result = _receive(patient, text)
    assert result.outcome == HelpOutcome.URGENT
    assert "911" in result.answer.body
    assert "988" in result.answer.body
    if who == "quinn":
        assert "emergencia" in result.answer.body
    conversation = Conversation.objects.get(pk=result.conversation.pk)
    assert conversation.flagged
    assert conversation.unread_count >= 1
    assert "urgent" in set(conversation.tags.values_list("name", flat=True))
    assert InternalNote.objects.filter(conversation=conversation, author=None).exists()
    assert ConversationEvent.objects.filter(
        conversation=conversation, kind=ConversationEvent.Kind.FLAGGED
    ).exists()


def test_in_opening_hours_the_message_reaches_staff_flagged_help(personas, time_machine, faq):
    time_machine.move_to(NOON_CHICAGO)
    result = _receive(personas.pat, "What are your hours?")
    assert result.outcome == HelpOutcome.STAFF
    assert result.faq == []
    conversation = Conversation.objects.get(pk=result.conversation.pk)
    assert conversation.flagged
    assert conversation.unread_count == 1
    assert conversation.patient == personas.pat
    assert set(conversation.tags.values_list("name", flat=True)) == {"help"}
    assert "care team at Northside Clinic" in result.answer.body
    entry = AuditEntry.objects.get(object_type="messaging.message", object_id=str(result.message.pk))
    assert entry.actor_kind == "patient"
    assert entry.on_behalf_of_id == personas.pat.pk


def test_after_hours_the_assistant_offers_the_closest_answers_and_the_next_opening(
    personas, time_machine, faq
):
    time_machine.move_to(NIGHT_CHICAGO)
    result = _receive(personas.pat, "I need a refill of my prescription")
    assert result.outcome == HelpOutcome.ASSISTANT
    assert result.faq[0].question == "How do I get a prescription refill?"
    assert len(result.faq) <= 3
    assert all(entry.is_active and entry.language == "en" for entry in result.faq)
    assert "Ask your pharmacy" in result.answer.body
    assert "Thu" in result.answer.body and "8:00" in result.answer.body
    assert result.next_opening == datetime(2026, 3, 5, 14, 0, tzinfo=UTC)
    conversation = Conversation.objects.get(pk=result.conversation.pk)
    assert not conversation.flagged
    assert conversation.unread_count == 1  # staff read it when they open
    assert "help" in set(conversation.tags.values_list("name", flat=True))


def test_after_hours_answers_are_in_the_patients_language(personas, time_machine, faq):
    time_machine.move_to(SUNDAY_CHICAGO)
    patient = personas.pat
    patient.language = "es"
    patient.save()
    result = _receive(patient, "necesito una receta de mi medicamento")
    assert [entry.question for entry in result.faq] == ["¿Cómo pido una receta?"]
    assert "lun" in result.answer.body.lower()


def test_after_hours_with_nothing_close_says_so(personas, time_machine, faq):
    time_machine.move_to(NIGHT_CHICAGO)
    assert faq_matches("zzzz qqqq", language="en") == []
    result = _receive(personas.pat, "zzzz qqqq")
    assert result.faq == []
    assert "did not find" in result.answer.body


def test_attachments_are_checked_by_content(personas, time_machine):
    time_machine.move_to(NOON_CHICAGO)
    renamed = SimpleUploadedFile("scan.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    with pytest.raises(ValidationError):
        _receive(personas.pat, "Here is my scan", attachments=[renamed])
    gif = SimpleUploadedFile("photo.png", b"GIF89a" + b"\x00" * 20, content_type="image/png")
    with pytest.raises(ValidationError):
        _receive(personas.pat, "Here is my photo", attachments=[gif])
    assert not Message.objects.exists()
    result = _receive(
        personas.pat,
        "Here are both",
        attachments=[
            SimpleUploadedFile("a.pdf", PDF, content_type="text/plain"),
            SimpleUploadedFile("b.bin", PNG, content_type="application/octet-stream"),
        ],
    )
    types = [item["content_type"] for item in result.message.media]
    assert types == ["application/pdf", "image/png"]


def test_an_empty_message_is_refused_and_nothing_is_stored(personas):
    with pytest.raises(MessageRefused):
        _receive(personas.pat, "  ")
    assert not Message.objects.exists()


def test_a_location_without_opening_hours_sends_help_to_staff(personas, time_machine, faq):
    time_machine.move_to(NIGHT_CHICAGO)
    personas.location_a.opening_hours.all().delete()
    result = _receive(personas.pat, "What are your hours?")
    assert result.outcome == HelpOutcome.STAFF
