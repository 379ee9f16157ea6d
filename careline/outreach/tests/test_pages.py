"""The outreach pages: who may use them, bad input changing nothing, and the preview and results shown."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from careline.core.models import AuditEntry
from careline.outreach.models import Audience, BirthdaySetting, Campaign, CampaignState, RecallRule
from careline.outreach.services.recalls import recalls_sweep
from careline.outreach.tests.support import audience, marketing_consent, visit_type

NOW = datetime(2031, 6, 10, 15, 0, tzinfo=UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.clock(NOW), pytest.mark.usefixtures("clock")]
MANAGERS = ("admin", "front_a")
OTHERS = ("clinician_a", "billing_a")


def _user(personas, role):
    return None if role == "outsider" else getattr(personas, role)


@pytest.mark.parametrize("role", [*MANAGERS, *OTHERS, "front_b", "outsider"])
def test_who_may_see_an_audience_of_location_a(personas, client_for, role):
    found = audience(personas, visit_type=visit_type(personas, "Annual physical"))
    response = client_for(_user(personas, role)).get(reverse("outreach:audience", args=[found.pk]))
    if role in MANAGERS:
        assert response.status_code == 200
        assert b"Pat Ortega" in response.content
    elif role == "outsider":
        assert response.status_code == 302 and "/accounts/" in response["Location"]
    else:
        assert response.status_code in (403, 404)  # no permission, or B's front desk: not their location's


@pytest.mark.parametrize("role", [*MANAGERS, *OTHERS, "front_b", "outsider"])
def test_who_may_open_the_outreach_page_and_a_locations_birthday_settings(personas, client_for, role):
    client = client_for(_user(personas, role))
    index = client.get(reverse("outreach:index"))
    birthdays = client.get(reverse("outreach:birthdays", args=[personas.location_a.pk]))
    if role in MANAGERS:
        assert (index.status_code, birthdays.status_code) == (200, 200)
    elif role == "front_b":
        assert index.status_code == 200 and b"Northside" not in index.content
        assert birthdays.status_code == 403
    elif role == "outsider":
        assert index.status_code == birthdays.status_code == 302
    else:
        assert (index.status_code, birthdays.status_code) == (403, 403)


def test_saving_an_audience_then_scheduling_a_recall_and_reading_its_results(personas, client_for):
    physical = visit_type(personas, "Annual physical")
    marketing_consent(personas.pat)
    client = client_for(personas.front_a)
    response = client.post(
        reverse("outreach:audience_create"),
        {"name": "Physical due", "location": personas.location_a.pk, "rule": RecallRule.NO_VISIT,
         "visit_type": physical.pk, "months": 12, "weeks": 4},
    )  # fmt: skip
    found = Audience.objects.get(name="Physical due")
    assert response["Location"] == reverse("outreach:audience", args=[found.pk])
    page = client.get(response["Location"])
    assert b"would get the recall" in page.content
    entry = AuditEntry.objects.filter(object_type="outreach.audience", action="search").latest("pk")
    assert str(personas.pat.pk) in entry.detail
    response = client.post(
        reverse("outreach:audience", args=[found.pk]), {"body": "", "offer": "callback", "send_at": ""}
    )
    campaign = Campaign.objects.get(audience=found)
    assert response["Location"] == reverse("outreach:campaign", args=[campaign.pk])
    recalls_sweep()
    results = client.get(response["Location"])
    assert results.status_code == 200 and b"Pat Ortega" in results.content
    assert b"Sent" in results.content


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"rule": RecallRule.NO_VISIT, "months": 12, "weeks": 4}, b"Choose the appointment type"),
        ({"rule": RecallRule.VACCINE, "months": 12, "weeks": 4}, b"Name the vaccine"),
        ({"rule": "everyone", "months": 12, "weeks": 4}, b"Select a valid choice"),
        ({"rule": RecallRule.VACCINE, "vaccine": "Flu", "months": 12, "weeks": 4, "min_age": 70, "max_age": 60},
         b"youngest age is above"),
    ],
)  # fmt: skip
def test_a_bad_audience_is_refused_with_a_message_and_nothing_saved(personas, client_for, data, message):
    response = client_for(personas.front_a).post(
        reverse("outreach:audience_create"), {"name": "Bad", "location": personas.location_a.pk, **data}
    )
    assert response.status_code == 400 and message in response.content
    assert not Audience.objects.exists()


def test_an_audience_at_another_location_cannot_be_saved(personas, client_for):
    response = client_for(personas.front_a).post(
        reverse("outreach:audience_create"),
        {"name": "B's", "location": personas.location_b.pk, "rule": RecallRule.VACCINE, "vaccine": "Flu",
         "months": 12, "weeks": 4},
    )  # fmt: skip
    assert response.status_code == 400 and not Audience.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"body": "Hi {patient.mrn}", "offer": "callback"}, b"is not a field"),
        ({"body": "Your {visit_type} is due", "offer": "callback"}, b"cannot be filled"),
        ({"body": "", "offer": "callback", "send_at": "tomorrow"}, b"Enter a date and time"),
        ({"body": "", "offer": "fax"}, b"Select a valid choice"),
    ],
)
def test_a_bad_recall_is_refused_with_a_message_and_nothing_scheduled(personas, client_for, data, message):
    found = audience(personas, visit_type=visit_type(personas, "Annual physical"))
    response = client_for(personas.front_a).post(reverse("outreach:audience", args=[found.pk]), data)
    assert response.status_code == 400 and message in response.content
    assert not Campaign.objects.exists()


def test_cancel_a_scheduled_recall_and_refuse_once_sent(personas, client_for):
    found = audience(personas, visit_type=visit_type(personas, "Annual physical"))
    client = client_for(personas.front_a)
    client.post(
        reverse("outreach:audience", args=[found.pk]),
        {"body": "", "offer": "link", "send_at": "2031-07-01 10:00"},
    )
    campaign = Campaign.objects.get()
    assert campaign.send_at == datetime(2031, 7, 1, 15, 0, tzinfo=UTC)  # 10:00 in Chicago
    assert client.get(reverse("outreach:campaign_cancel", args=[campaign.pk])).status_code == 405
    client.post(reverse("outreach:campaign_cancel", args=[campaign.pk]))
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.CANCELLED
    other = client_for(personas.front_b).post(reverse("outreach:campaign_cancel", args=[campaign.pk]))
    assert other.status_code == 404


def test_birthday_settings_are_saved_and_a_bad_template_is_refused(personas, client_for):
    client = client_for(personas.front_a)
    url = reverse("outreach:birthdays", args=[personas.location_a.pk])
    bad = client.post(url, {"enabled": "on", "template": "Happy birthday {date_of_birth:%Y}"})
    assert bad.status_code == 400 and b"formats a field" in bad.content
    assert not BirthdaySetting.objects.exists()
    client.post(url, {"enabled": "on", "template": "", "text_es": "¡Feliz cumpleaños, {first_name}!"})
    setting = BirthdaySetting.objects.get(location=personas.location_a)
    assert setting.enabled and setting.translations == {"es": "¡Feliz cumpleaños, {first_name}!"}
