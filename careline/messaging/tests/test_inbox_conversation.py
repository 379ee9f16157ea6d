"""The conversation page: sending through the pipeline, states in words, notes, assignment, status, tags,
family phones, reading, and the flagged opt-out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from careline.core.models import AuditEntry
from careline.messaging.models import (
    Conversation,
    ConversationEvent,
    InternalNote,
    Message,
    MessageState,
    SavedReply,
)
from careline.messaging.services.channels import simulator_channel
from careline.messaging.tests.inbox_support import NOON_CHICAGO, PAT_NUMBER, texted_by
from careline.patients.models import ConsentEvent, ConsentKind, ConsentMethod, Patient, PatientPhone
from careline.patients.services.registry import consent_state

pytestmark = [pytest.mark.clock(NOON_CHICAGO), pytest.mark.usefixtures("clock")]


@pytest.fixture
def conversation(personas) -> Conversation:
    return texted_by(PAT_NUMBER)


def _page(client, conversation) -> str:
    response = client.get(reverse("messaging:conversation", args=[conversation.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_a_text_from_the_composer_is_queued_then_sent_on_the_simulator(
    personas, client_for, conversation, django_capture_on_commit_callbacks
):
    client = client_for(personas.front_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("messaging:conversation", args=[conversation.pk]), {"body": "See you Friday."}
        )
    assert response.status_code == 302
    message = Message.objects.get(direction="out", body="See you Friday.")
    assert message.author == personas.front_a
    assert message.kind == "staff"
    assert message.channel.type_code == "simulator"
    assert message.to_address == PAT_NUMBER
    assert message.patient == personas.pat
    assert message.provider_message_id
    assert message.state == MessageState.DELIVERED
    assert AuditEntry.objects.filter(
        action="create", patient_id=personas.pat.pk, actor=personas.front_a
    ).exists()
    assert "Delivered" in _page(client, conversation)


def test_a_suppressed_text_is_explained_in_words(personas, client_for, conversation):
    ConsentEvent.objects.create(
        phone_number=PAT_NUMBER,
        kind=ConsentKind.REVOKED,
        method=ConsentMethod.KEYWORD,
        occurred_at=timezone.now(),
    )
    client = client_for(personas.front_a)
    response = client.post(
        reverse("messaging:conversation", args=[conversation.pk]), {"body": "Hello?"}, follow=True
    )
    assert Message.objects.get(body="Hello?").state == MessageState.SUPPRESSED
    html = response.content.decode()
    assert "Not sent: the number opted out" in html
    assert "Opted out: texts will not be sent" in html


def test_an_empty_or_too_long_text_gets_a_clear_message_and_sends_nothing(
    personas, client_for, conversation, settings
):
    client = client_for(personas.front_a)
    url = reverse("messaging:conversation", args=[conversation.pk])
    response = client.post(url, {"body": "   "})
    assert response.status_code == 400
    assert "Write a message or attach an image." in response.content.decode()
    response = client.post(url, {"body": "x" * (settings.CARELINE_MAX_MESSAGE_LENGTH + 1)})
    assert response.status_code == 400
    assert not Message.objects.filter(direction="out").exists()


def test_a_refused_message_is_shown_as_a_form_error(personas, client_for, conversation, monkeypatch):
    from careline.messaging.outbound.compose import MessageRefused
    from careline.messaging.views import conversation as inbox

    def refuse(**kwargs):
        raise MessageRefused("No channel is configured for texts.")

    monkeypatch.setattr(inbox, "message_send", refuse)
    response = client_for(personas.front_a).post(
        reverse("messaging:conversation", args=[conversation.pk]), {"body": "Hi"}
    )
    assert response.status_code == 400
    assert "No channel is configured for texts." in response.content.decode()


def test_a_text_can_be_scheduled_for_later_in_the_patients_time(personas, client_for, conversation):
    client = client_for(personas.front_a)
    response = client.post(
        reverse("messaging:conversation", args=[conversation.pk]),
        {"body": "Reminder", "send_at": "2026-03-05T09:30"},
    )
    assert response.status_code == 302
    message = Message.objects.get(body="Reminder")
    assert message.scheduled
    assert message.state == MessageState.QUEUED
    assert message.due_at == NOON_CHICAGO + timedelta(hours=21, minutes=30)  # 09:30 Chicago next day
    assert "Scheduled for Mar 5, 09:30" in _page(client, conversation)
    past = client.post(
        reverse("messaging:conversation", args=[conversation.pk]),
        {"body": "x", "send_at": "2026-03-01T09:30"},
    )
    assert past.status_code == 400
    assert "Choose a time in the future" in past.content.decode()


def test_an_internal_note_is_shown_to_staff_and_never_sent(personas, client_for, conversation):
    client = client_for(personas.clinician_a)
    response = client.post(
        reverse("messaging:note_add", args=[conversation.pk]), {"text": "Call her back after 3"}
    )
    assert response.status_code == 302
    assert InternalNote.objects.get().author == personas.clinician_a
    assert not Message.objects.filter(direction="out").exists()
    html = _page(client, conversation)
    assert "Call her back after 3" in html
    assert "staff only, not sent" in html
    assert (
        client.post(reverse("messaging:note_add", args=[conversation.pk]), {"text": " "}).status_code == 400
    )


def test_assign_unassign_close_reopen_and_tags_leave_events(personas, client_for, conversation):
    client = client_for(personas.front_a)
    pk = conversation.pk
    client.post(reverse("messaging:assign", args=[pk]), {"assignee": personas.clinician_a.pk})
    conversation.refresh_from_db()
    assert conversation.assigned_to == personas.clinician_a
    # Somebody who cannot read the conversation cannot be given it.
    client.post(reverse("messaging:assign", args=[pk]), {"assignee": personas.front_b.pk})
    conversation.refresh_from_db()
    assert conversation.assigned_to == personas.clinician_a
    client.post(reverse("messaging:assign", args=[pk]), {"assignee": ""})
    client.post(reverse("messaging:status", args=[pk]), {"action": "close"})
    conversation.refresh_from_db()
    assert conversation.assigned_to is None
    assert conversation.status == "closed"
    client.post(reverse("messaging:status", args=[pk]), {"action": "reopen"})
    client.post(reverse("messaging:tag_add", args=[pk]), {"name": "  Billing   Question "})
    client.post(reverse("messaging:tag_add", args=[pk]), {"name": "x" * 41})
    conversation.refresh_from_db()
    assert conversation.status == "open"
    assert list(conversation.tags.values_list("name", flat=True)) == ["billing question"]
    tag = conversation.tags.get()
    client.post(reverse("messaging:tag_remove", args=[pk, tag.pk]))
    assert not conversation.tags.exists()
    kinds = list(
        ConversationEvent.objects.filter(conversation=conversation, actor=personas.front_a).values_list(
            "kind", flat=True
        )
    )
    assert kinds == ["assigned", "unassigned", "closed", "reopened", "tagged", "untagged"]
    assert (
        AuditEntry.objects.filter(
            patient_id=personas.pat.pk, action="update", object_type="messaging.conversation"
        ).count()
        == 6
    )


def test_a_new_text_reopens_a_closed_conversation_and_counts_unread_until_read(
    personas, client_for, conversation
):
    client = client_for(personas.front_a)
    client.get(reverse("messaging:conversation", args=[conversation.pk]))
    client.post(reverse("messaging:status", args=[conversation.pk]), {"action": "close"})
    texted_by(PAT_NUMBER, "One more question")
    conversation.refresh_from_db()
    assert conversation.status == "open"
    assert conversation.unread_count == 1
    html = client.get(reverse("messaging:inbox")).content.decode()
    assert "1 unread" in html
    response = client.get(reverse("messaging:thread", args=[conversation.pk]))
    assert "One more question" in response.content.decode()
    conversation.refresh_from_db()
    assert conversation.unread_count == 0


def test_staff_pick_the_patient_on_a_family_phone(personas, client_for):
    sibling = Patient.objects.create(
        mrn="MRN-SIB",
        legal_first_name="Lucia",
        legal_last_name="Ortega",
        date_of_birth="2012-06-01",
        primary_location=personas.location_a,
    )
    PatientPhone.objects.create(patient=sibling, number=PAT_NUMBER, kind="mobile")
    conversation = texted_by(PAT_NUMBER, "Is Lucia's form ready?")
    assert conversation.patient is None
    client = client_for(personas.front_a)
    html = _page(client, conversation)
    assert "Lucia Ortega" in html
    assert "Pat Ortega" in html
    assert "Who is texting?" in html
    stranger = Patient.objects.create(
        mrn="MRN-STR",
        legal_first_name="Other",
        legal_last_name="Person",
        date_of_birth="1990-01-01",
        primary_location=personas.location_a,
    )
    client.post(reverse("messaging:link_patient", args=[conversation.pk]), {"patient": stranger.pk})
    conversation.refresh_from_db()
    assert conversation.patient is None  # only a patient whose phones include the number
    response = client.post(reverse("messaging:link_patient", args=[conversation.pk]), {"patient": sibling.pk})
    assert response.status_code == 302
    conversation.refresh_from_db()
    assert conversation.patient == sibling
    assert conversation.location == personas.location_a
    assert Message.objects.get(body="Is Lucia's form ready?").patient == sibling
    assert ConversationEvent.objects.filter(conversation=conversation, kind="patient_linked").exists()


def test_the_flagged_free_text_opt_out_is_one_click(personas, client_for):
    conversation = texted_by(PAT_NUMBER, "please stop texting me")
    assert conversation.opt_out_suspected
    client = client_for(personas.front_a)
    assert 'id="opt-out-banner"' in _page(client, conversation)
    client.post(reverse("messaging:opt_out", args=[conversation.pk]))
    conversation.refresh_from_db()
    assert not conversation.opt_out_suspected
    assert consent_state(PAT_NUMBER) == "revoked"
    event = ConsentEvent.objects.order_by("-id").first()
    assert event.method == "staff"
    assert event.recorded_by == personas.front_a
    assert event.patient == personas.pat
    assert 'id="opt-out-banner"' not in _page(client, conversation)


def test_the_visit_cancel_banner_shows_and_can_be_dismissed(personas, client_for):
    conversation = texted_by(PAT_NUMBER, "Cancel")
    client = client_for(personas.front_a)
    assert "may have meant to cancel a visit" in _page(client, conversation)
    client.post(reverse("messaging:dismiss", args=[conversation.pk]), {"flag": "visit_cancel"})
    assert 'id="visit-cancel-banner"' not in _page(client, conversation)
    client.post(reverse("messaging:dismiss", args=[conversation.pk]), {"flag": "nonsense"})


def test_reading_a_conversation_is_audited_once_and_polling_is_not(personas, client_for, conversation):
    client = client_for(personas.front_a)
    views = AuditEntry.objects.filter(action="view", patient_id=personas.pat.pk)
    _page(client, conversation)
    # The conversation, and what the patient panel beside it showed.
    assert sorted(views.values_list("detail", flat=True)) == [
        "conversation read",
        "inbox patient panel: identity, alerts, consent, language, number shared, visits, balance",
    ]
    for _ in range(3):
        client.get(reverse("messaging:thread", args=[conversation.pk]), HTTP_X_CARELINE_BACKGROUND="1")
    assert views.count() == 2


def test_the_page_shows_the_patients_header_and_saved_replies_rendered_for_her(
    personas, client_for, conversation
):
    SavedReply.objects.create(title="Hours", body="Hi {first_name}, {location_name} is open 8-5.")
    html = _page(client_for(personas.front_a), conversation)
    assert "Ortega, Patricia" in html
    assert "1980-04-12" in html
    assert "Consent given" in html
    assert "Hi Pat, Northside Clinic is open 8-5." in html


def test_new_message_from_a_patient_page_opens_the_conversation(personas, client_for):
    client = client_for(personas.front_a)
    response = client.post(reverse("messaging:start"), {"patient": personas.pat.pk})
    conversation = Conversation.objects.get(contact=PAT_NUMBER, channel=simulator_channel())
    assert response.status_code == 302
    assert response["Location"] == reverse("messaging:conversation", args=[conversation.pk])
    again = client.post(reverse("messaging:start"), {"patient": personas.pat.pk})
    assert again["Location"] == response["Location"]
    opened = client.get(reverse("messaging:start") + f"?patient={personas.pat.pk}")
    assert opened["Location"] == response["Location"]
    assert Conversation.objects.count() == 1
    assert client.post(reverse("messaging:start"), {"patient": "abc"}).status_code == 404
    PatientPhone.objects.filter(patient=personas.pat).delete()
    response = client.post(reverse("messaging:start"), {"patient": personas.pat.pk}, follow=True)
    assert "has no phone number on file" in response.content.decode()


def test_opening_the_start_link_creates_nothing_until_confirmed(personas, client_for):
    client = client_for(personas.front_a)
    url = reverse("messaging:start") + f"?patient={personas.pat.pk}"
    for _ in range(2):
        response = client.get(url)
        assert response.status_code == 200
        assert "Start the conversation" in response.content.decode()
    assert not Conversation.objects.exists()
    for junk in ("²", "9" * 30, "-1", "0"):
        assert client.get(reverse("messaging:start") + f"?patient={junk}").status_code == 404
    assert not Conversation.objects.exists()
