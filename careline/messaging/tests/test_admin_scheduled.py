"""Scheduled messages: listed in the location's zone, editable and cancellable until they go."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from careline.core.models import AuditAction, AuditEntry
from careline.messaging.models import Message, MessageState
from careline.messaging.tests.h3_support import PERSONAS, scheduled_message

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
NOW = datetime(2030, 3, 5, 12, 0, tzinfo=CHICAGO)
LIST_STATUS = {who: 200 for who in PERSONAS}
EDIT_PAT = {"admin": 200, "front_a": 200, "clinician_a": 200, "billing_a": 200, "front_b": 403}


@pytest.mark.parametrize("who", PERSONAS)
def test_the_list_shows_only_messages_of_visible_patients(personas, client_for, who):
    scheduled_message(personas.pat, body="For Pat")
    scheduled_message(personas.quinn, body="For Quinn")
    response = client_for(personas.staff[who]).get(reverse("messaging:scheduled_list"))
    assert response.status_code == LIST_STATUS[who]
    page = response.content.decode()
    assert ("For Pat" in page) == (who != "front_b")
    assert ("For Quinn" in page) == (who in {"admin", "front_b"})


@pytest.mark.parametrize("who", PERSONAS)
def test_editing_and_cancelling_pats_message_needs_access_to_pat(personas, client_for, who):
    message = scheduled_message(personas.pat)
    client = client_for(personas.staff[who])
    assert client.get(reverse("messaging:scheduled_edit", args=[message.pk])).status_code == EDIT_PAT[who]
    response = client.post(reverse("messaging:scheduled_cancel", args=[message.pk]))
    message.refresh_from_db()
    if EDIT_PAT[who] == 200:
        assert response.status_code == 302
        assert message.state == MessageState.CANCELLED
    else:
        assert response.status_code == 403
        assert message.state == MessageState.QUEUED


def test_outsiders_are_sent_to_sign_in(personas, client_for):
    message = scheduled_message(personas.pat)
    for url in (reverse("messaging:scheduled_list"), reverse("messaging:scheduled_edit", args=[message.pk])):
        response = client_for(None).get(url)
        assert response.status_code == 302
        assert "/accounts/login" in response["Location"]
    assert client_for(None).post(reverse("messaging:scheduled_cancel", args=[message.pk])).status_code == 302
    message.refresh_from_db()
    assert message.state == MessageState.QUEUED


@time_machine.travel(NOW, tick=False)
def test_times_are_shown_and_edited_in_the_locations_zone(personas, client_for, settings):
    settings.TIME_ZONE = "UTC"  # the server's zone must not matter
    message = scheduled_message(personas.pat, hours=24)
    client = client_for(personas.front_a)
    page = client.get(reverse("messaging:scheduled_list")).content.decode()
    assert "Wed Mar 6, 12:00 PM" in page
    assert "America/Chicago" in page
    response = client.post(
        reverse("messaging:scheduled_edit", args=[message.pk]),
        {"body": "New text", "send_at": "2030-03-07T09:15"},
    )
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.body == "New text"
    assert message.due_at == datetime(2030, 3, 7, 9, 15, tzinfo=CHICAGO)
    assert AuditEntry.objects.filter(action=AuditAction.UPDATE, patient_id=personas.pat.pk).exists()


@time_machine.travel(NOW, tick=False)
def test_bad_edits_get_a_message_and_change_nothing(personas, client_for):
    message = scheduled_message(personas.pat, body="Original")
    client = client_for(personas.front_a)
    url = reverse("messaging:scheduled_edit", args=[message.pk])
    for body in (
        {"body": "", "send_at": "2030-03-07T09:15"},
        {"body": "x", "send_at": "2030-03-01T09:15"},
        {"body": "x", "send_at": "soon"},
    ):
        assert client.post(url, body).status_code == 400
    message.refresh_from_db()
    assert message.body == "Original"


def test_a_message_that_went_can_no_longer_be_edited_or_cancelled(personas, client_for):
    message = scheduled_message(personas.pat, body="Original")
    Message.objects.filter(pk=message.pk).update(state=MessageState.SENT)
    client = client_for(personas.front_a)
    edit = client.post(
        reverse("messaging:scheduled_edit", args=[message.pk]),
        {"body": "Changed", "send_at": f"{timezone.localdate().year + 1}-01-01T09:00"},
    )
    assert edit.status_code == 302
    cancel = client.post(reverse("messaging:scheduled_cancel", args=[message.pk]), follow=True)
    assert "can no longer be cancelled" in cancel.content.decode()
    message.refresh_from_db()
    assert message.state == MessageState.SENT
    assert message.body == "Original"
    assert "Original" not in client.get(reverse("messaging:scheduled_list")).content.decode()
