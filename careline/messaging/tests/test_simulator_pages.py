"""The phone simulator page: who may use it, that it is absent when turned off, and that answers typed there
arrive in the inbox like a provider's webhook."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.timezone import now as timezone_now

from careline.messaging.models import Conversation, Message, MessageState
from careline.messaging.outbound.compose import message_send
from careline.messaging.tests.inbox_support import NOON_CHICAGO, PAT_NUMBER, QUINN_NUMBER, texted_by

STAFF = ["admin", "front_a", "clinician_a", "billing_a", "front_b"]


pytestmark = [pytest.mark.clock(NOON_CHICAGO), pytest.mark.usefixtures("clock")]


@pytest.mark.parametrize("who", STAFF)
def test_staff_may_open_the_simulator(personas, client_for, who):
    response = client_for(personas.staff[who]).get(reverse("messaging:simulator"))
    assert response.status_code == 200
    assert b"Phone simulator" in response.content


@pytest.mark.parametrize("simulator_on", [True, False])
def test_the_inbox_menu_links_to_the_simulator_only_when_it_is_on(
    personas, client_for, settings, simulator_on
):
    settings.CARELINE_SIMULATOR = simulator_on
    page = client_for(personas.front_a).get(reverse("messaging:inbox")).content.decode()
    link = f'href="{reverse("messaging:simulator")}"'
    assert (link in page) is simulator_on
    assert ("Phone simulator" in page) is simulator_on


def test_an_outsider_is_sent_to_sign_in(personas, client_for):
    for response in [
        client_for(None).get(reverse("messaging:simulator")),
        client_for(None).get(reverse("messaging:simulator_screen"), {"number": PAT_NUMBER}),
        client_for(None).post(reverse("messaging:simulator"), {"number": PAT_NUMBER, "body": "hi"}),
    ]:
        assert response.status_code == 302
        assert "/accounts/login" in response["Location"]
    assert not Message.objects.exists()


@pytest.mark.parametrize("who", [*STAFF, None])
def test_the_simulator_does_not_exist_when_turned_off(personas, client_for, settings, who):
    settings.CARELINE_SIMULATOR = False
    client = client_for(personas.staff[who] if who else None)
    assert client.get(reverse("messaging:simulator")).status_code == 404
    assert client.get(reverse("messaging:simulator_screen"), {"number": PAT_NUMBER}).status_code == 404
    assert (
        client.post(reverse("messaging:simulator"), {"number": PAT_NUMBER, "body": "hi"}).status_code == 404
    )
    assert not Message.objects.exists()


def test_the_phone_shows_what_was_sent_with_its_delivery_state(
    personas, client_for, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message_send(body="Your visit is Friday at 9.", patient=personas.pat, author=personas.front_a)
    assert Message.objects.get().state == MessageState.DELIVERED
    client = client_for(personas.front_a)
    html = client.get(reverse("messaging:simulator"), {"number": "(312) 555-0111"}).content.decode()
    assert "Your visit is Friday at 9." in html
    assert "Delivered" in html
    assert PAT_NUMBER in html  # in the list of numbers with texts
    screen = client.get(
        reverse("messaging:simulator_screen"), {"number": PAT_NUMBER}, HTTP_X_CARELINE_BACKGROUND="1"
    )
    assert screen.status_code == 200
    assert b"Your visit is Friday at 9." in screen.content


def test_an_answer_from_the_simulator_appears_in_the_conversation_with_an_unread_count(personas, client_for):
    client = client_for(personas.front_a)
    response = client.post(
        reverse("messaging:simulator"), {"number": "312-555-0111", "body": "Running 10 min late"}
    )
    assert response.status_code == 302
    conversation = Conversation.objects.get(contact=PAT_NUMBER)
    assert conversation.patient == personas.pat
    assert conversation.unread_count == 1
    inbound = Message.objects.get(direction="in")
    assert inbound.body == "Running 10 min late"
    assert (inbound.provider_message_id or "").startswith("SIMIN")
    listing = client.get(reverse("messaging:inbox")).content.decode()
    assert "Running 10 min late" in listing
    assert "1 unread" in listing
    thread = client.get(reverse("messaging:thread", args=[conversation.pk])).content.decode()
    assert "Running 10 min late" in thread


def test_keywords_typed_on_the_simulator_take_the_real_path(
    personas, client_for, django_capture_on_commit_callbacks
):
    client = client_for(personas.front_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("messaging:simulator"), {"number": PAT_NUMBER, "body": "STOP"})
    reply = Message.objects.get(direction="out")
    assert "unsubscribed" in reply.body
    assert reply.state == MessageState.DELIVERED


def test_bad_input_gets_a_clear_message_and_stores_nothing(personas, client_for):
    client = client_for(personas.front_a)
    response = client.post(reverse("messaging:simulator"), {"number": "call me", "body": "hi"})
    assert response.status_code == 400
    assert "is not a phone number" in response.content.decode()
    response = client.post(reverse("messaging:simulator"), {"number": PAT_NUMBER, "body": ""})
    assert response.status_code == 400
    response = client.get(reverse("messaging:simulator"), {"number": "12"})
    assert response.status_code == 400
    assert client.get(reverse("messaging:simulator_screen"), {"number": ""}).status_code == 400
    assert not Message.objects.exists()


def test_front_desk_cannot_read_or_answer_as_a_patient_of_another_location(personas, client_for):
    texted_by(QUINN_NUMBER, "Hola")
    client = client_for(personas.front_a)
    assert client.get(reverse("messaging:simulator"), {"number": QUINN_NUMBER}).status_code == 403
    assert client.get(reverse("messaging:simulator_screen"), {"number": QUINN_NUMBER}).status_code == 403
    assert (
        client.post(reverse("messaging:simulator"), {"number": QUINN_NUMBER, "body": "x"}).status_code == 403
    )
    assert Message.objects.count() == 1
    html = client.get(reverse("messaging:simulator")).content.decode()
    assert QUINN_NUMBER not in html


def _held_text(channel, personas):
    """An automated text to Pat on CHANNEL, held at night until the window opens."""
    from datetime import timedelta

    from django.utils import timezone

    from careline.messaging.outbound.compose import conversation_for

    conversation = conversation_for(channel=channel, contact=PAT_NUMBER, patient=personas.pat)
    return Message.objects.create(
        conversation=conversation, channel=channel, patient=personas.pat, direction=Message.Direction.OUTBOUND,
        to_address=PAT_NUMBER, body="Reminder: visit tomorrow", state=MessageState.QUEUED, kind="automated",
        held_for_quiet_hours=True, due_at=timezone.now() + timedelta(hours=10),
    )  # fmt: skip


def test_a_text_held_for_quiet_hours_on_the_simulator_can_be_delivered_now_and_is_audited(
    personas, client_for
):
    from careline.core.models import AuditEntry
    from careline.messaging.outbound.sweep import messages_sweep
    from careline.messaging.services.channels import simulator_channel

    held = _held_text(simulator_channel(), personas)
    client = client_for(personas.front_a)
    page = client.get(reverse("messaging:simulator")).content.decode()
    assert "Deliver now (development only)" in page and f'value="{held.pk}"' in page
    response = client.post(reverse("messaging:simulator_deliver_now"), {"message": held.pk})
    assert response.status_code == 302
    held.refresh_from_db()
    assert held.due_at is not None and held.due_at <= timezone_now()
    assert messages_sweep()["enqueued"] == 1
    assert AuditEntry.objects.filter(
        object_type="messaging.message", object_id=str(held.pk), detail__contains="development only"
    ).exists()


def test_deliver_now_does_not_exist_for_other_channels_nor_with_the_simulator_off(
    personas, client_for, settings
):
    from careline.messaging.models import Channel
    from careline.messaging.services.channels import simulator_channel
    from careline.messaging.services.simulator import simulator_release_held

    email = Channel.objects.create(type_code="email", name="Clinic email", address="clinic@example.test")
    other = _held_text(email, personas)
    due = other.due_at
    client = client_for(personas.admin)
    assert client.post(reverse("messaging:simulator_deliver_now"), {"message": other.pk}).status_code == 404
    assert simulator_release_held(channel=email, message_id=other.pk) is False
    other.refresh_from_db()
    assert (other.due_at, other.held_for_quiet_hours) == (due, True)
    own = _held_text(simulator_channel(), personas)
    settings.CARELINE_SIMULATOR = False
    assert client.post(reverse("messaging:simulator_deliver_now"), {"message": own.pk}).status_code == 404
    assert simulator_release_held(channel=simulator_channel(), message_id=own.pk) is False
    own.refresh_from_db()
    assert own.due_at > timezone_now()
    assert client.post(reverse("messaging:simulator_deliver_now"), {"message": "x"}).status_code == 404


def test_deliver_now_refuses_a_text_of_another_locations_patient(personas, client_for):
    from careline.messaging.services.channels import simulator_channel

    held = _held_text(simulator_channel(), personas)
    response = client_for(personas.front_b).post(
        reverse("messaging:simulator_deliver_now"), {"message": held.pk}
    )
    assert response.status_code == 404
    held.refresh_from_db()
    assert held.due_at > timezone_now()


def test_a_bubble_on_the_simulated_phone_holds_the_text_and_no_line_breaks_of_the_template(
    personas, client_for
):
    """Bubbles keep a text's own line breaks (white-space: pre-wrap), so the template adds none around it."""
    import re

    client = client_for(personas.front_a)
    client.post(reverse("messaging:simulator"), {"number": "312-555-0111", "body": "Line one\nLine two"})
    screen = client.get(reverse("messaging:simulator_screen"), {"number": "312-555-0111"}).content.decode()
    bubble = re.search(r'<li class="bubble[^"]*"[^>]*>(.*?)</li>', screen, re.DOTALL)
    assert bubble is not None
    text_before_meta = bubble.group(1).split('<span class="meta">')[0]
    assert text_before_meta.endswith("Line one\nLine two")
    assert "\n" not in bubble.group(1).replace("Line one\nLine two", "")
