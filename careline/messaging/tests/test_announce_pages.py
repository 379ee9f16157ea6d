"""Announcement pages: who may use them, preview before send, template refusals, live progress."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from careline.core.models import AuditAction, AuditEntry
from careline.messaging.models import Announcement, Message
from careline.messaging.tests.h3_support import PERSONAS, announcement

pytestmark = pytest.mark.django_db

MIDDAY = datetime(2030, 3, 5, 12, 0, tzinfo=ZoneInfo("America/Chicago"))
SEND_STATUS = {"admin": 200, "front_a": 200, "clinician_a": 403, "billing_a": 403, "front_b": 200}


@pytest.mark.parametrize("who", PERSONAS)
@pytest.mark.parametrize("name", ["messaging:announcement_list", "messaging:announcement_new"])
def test_announcement_pages_need_announcement_send(personas, client_for, who, name):
    response = client_for(personas.staff[who]).get(reverse(name))
    assert response.status_code == SEND_STATUS[who]


@pytest.mark.parametrize("name", ["messaging:announcement_list", "messaging:announcement_new"])
def test_outsiders_are_sent_to_sign_in(client_for, personas, name):
    response = client_for(None).get(reverse(name))
    assert response.status_code == 302
    assert "/accounts/login" in response["Location"]


DETAIL_STATUS = {"admin": 200, "front_a": 200, "clinician_a": 403, "billing_a": 403, "front_b": 403}


@pytest.mark.parametrize("who", PERSONAS)
@pytest.mark.parametrize("name", ["messaging:announcement_detail", "messaging:announcement_progress"])
def test_an_announcement_to_location_a_is_seen_only_by_staff_there(personas, client_for, who, name):
    item = announcement(personas.front_a, location=personas.location_a)
    response = client_for(personas.staff[who]).get(reverse(name, args=[item.pk]))
    assert response.status_code == DETAIL_STATUS[who]
    assert client_for(None).get(reverse(name, args=[item.pk])).status_code == 302


def test_preview_shows_the_count_and_a_rendered_sample_and_sends_nothing(personas, client_for):
    client = client_for(personas.front_a)
    body = {
        "title": "Flu",
        "body": "Hi {first_name}, flu shots at {location_name}.",
        "location": "",
        "action": "preview",
    }
    page = client.post(reverse("messaging:announcement_new"), body).content.decode()
    assert "<strong>1</strong> patient" in page
    assert "Hi Pat, flu shots at Northside Clinic." in page
    assert Announcement.objects.count() == 0
    assert Message.objects.count() == 0
    assert AuditEntry.objects.filter(
        action=AuditAction.SEARCH, detail__startswith="announcement preview"
    ).exists()


def test_send_without_a_preview_only_previews(personas, client_for):
    client = client_for(personas.front_a)
    body = {"title": "Flu", "body": "Hi {first_name}", "action": "send"}
    assert client.post(reverse("messaging:announcement_new"), body).status_code == 200
    assert Announcement.objects.count() == 0


@time_machine.travel(MIDDAY, tick=False)
def test_send_creates_the_announcement_and_fans_out(personas, client_for, django_capture_on_commit_callbacks):
    client = client_for(personas.front_a)
    body = {"title": "Flu", "body": "Hi {first_name}, flu shots.", "action": "send", "previewed": "1"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("messaging:announcement_new"), body)
    item = Announcement.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("messaging:announcement_detail", args=[item.pk])
    assert item.location is None
    assert item.total == 1
    assert list(Message.objects.filter(announcement=item).values_list("patient", flat=True)) == [
        personas.pat.pk
    ]
    page = client.get(response["Location"]).content.decode()
    assert "Flu" in page
    assert 'id="announcement-progress"' in page


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Hi {first_name}, your {diagnosis} results are in", "Unknown field {diagnosis}"),
        ("Reply STOP to confirm your visit", "Patients may only be asked to reply STOP"),
        ("Hi {first_name", "braces are not balanced"),
    ],
)
def test_templates_outside_the_rules_are_refused_with_a_clear_message(personas, client_for, text, problem):
    response = client_for(personas.front_a).post(
        reverse("messaging:announcement_new"),
        {"title": "T", "body": text, "action": "send", "previewed": "1"},
    )
    assert response.status_code == 400
    assert problem in response.content.decode()
    assert Announcement.objects.count() == 0


def test_front_desk_cannot_pick_another_locations_patients(personas, client_for):
    response = client_for(personas.front_b).post(
        reverse("messaging:announcement_new"),
        {"title": "T", "body": "Hi", "location": personas.location_a.pk, "action": "preview"},
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def test_progress_partial_polls_as_background_until_finished(personas, client_for):
    item = announcement(personas.front_a, location=personas.location_a)
    client = client_for(personas.front_a)
    url = reverse("messaging:announcement_progress", args=[item.pk])
    polling = client.get(url, headers={"HX-Request": "true", "X-Careline-Background": "1"}).content.decode()
    assert 'hx-trigger="every 2s"' in polling
    assert "X-Careline-Background" in polling
    Announcement.objects.filter(pk=item.pk).update(state=Announcement.State.DONE)
    done = client.get(url, headers={"HX-Request": "true", "X-Careline-Background": "1"}).content.decode()
    assert "hx-trigger" not in done
    assert "finished" in done


def test_list_shows_past_announcements_of_ones_locations(personas, client_for):
    announcement(personas.front_a, location=personas.location_a)
    assert (
        "Closed Monday"
        in client_for(personas.front_a).get(reverse("messaging:announcement_list")).content.decode()
    )
    assert (
        "Closed Monday"
        not in client_for(personas.front_b).get(reverse("messaging:announcement_list")).content.decode()
    )
