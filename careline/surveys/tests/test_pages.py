"""The survey pages: results, service report and settings, per role and for an outsider; bad input; audit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from careline.core.models import AuditEntry
from careline.scheduling.tests.appointment_support import make_schedule
from careline.surveys.models import Scale, SurveySettings
from careline.surveys.services.sending import surveys_send_due
from careline.surveys.tests.support import MONDAY_8_CHICAGO, completed_visit, surveys_on, text

pytestmark = pytest.mark.clock(MONDAY_8_CHICAGO)

REPORTERS = ("admin", "front_a")
NOT_REPORTERS = ("clinician_a", "billing_a")


@pytest.fixture
def answered(personas: Any, clock: Any) -> Any:
    """Pat answered a survey at location A: 2, with a comment."""
    surveys_on(personas, manager=personas.front_a)
    survey = completed_visit(make_schedule(personas), clock)
    clock.move_to(survey.due_at, tick=False)
    surveys_send_due()
    text("2 the wait was long")
    clock.shift(timedelta(hours=1))
    return survey


@pytest.mark.parametrize("role", REPORTERS)
def test_reporters_see_results_with_comments_and_the_read_is_audited(personas, answered, client_for, role):
    client = client_for(getattr(personas, role))
    page = client.get("/surveys/", {"location": personas.location_a.pk})
    body = page.content.decode()
    assert page.status_code == 200
    assert "the wait was long" in body and "Casey Clinician" in body and "<svg" in body
    assert AuditEntry.objects.filter(object_type="report.surveys", action="view").exists()
    csv = client.get("/surveys/results.csv", {"location": personas.location_a.pk})
    assert csv.status_code == 200 and "the wait was long" in csv.content.decode()
    assert AuditEntry.objects.filter(object_type="report.surveys", action="export").exists()


@pytest.mark.parametrize("role", NOT_REPORTERS)
def test_clinicians_and_billing_do_not_see_results(personas, answered, client_for, role):
    client = client_for(getattr(personas, role))
    for url in ("/surveys/", "/surveys/results.csv", "/surveys/service/", "/surveys/service.csv"):
        assert client.get(url).status_code == 403


def test_another_locations_staff_cannot_choose_location_a_or_see_its_comments(personas, answered, client_for):
    client = client_for(personas.front_b)
    assert client.get("/surveys/", {"location": personas.location_a.pk}).status_code == 400
    page = client.get("/surveys/")
    assert page.status_code == 200 and "the wait was long" not in page.content.decode()
    assert client.get("/surveys/service/", {"location": personas.location_a.pk}).status_code == 400


def test_signed_out_visitors_go_to_sign_in(client):
    for url in ("/surveys/", "/surveys/service/", "/surveys/settings/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login" in response["Location"]


def test_bad_filters_answer_400_with_a_message(personas, client_for):
    client = client_for(personas.admin)
    page = client.get("/surveys/", {"start": "2031-02-01", "end": "2031-01-01"})
    assert page.status_code == 400 and "The end date is before the start date." in page.content.decode()
    assert client.get("/surveys/", {"clinician": "abc"}).status_code == 400
    assert client.get("/surveys/service/", {"hours": "0"}).status_code == 400
    assert client.get("/surveys/service.csv", {"start": "nonsense"}).status_code == 400


def test_the_service_report_shows_the_inbox_reminders_surveys_and_exports(personas, answered, client_for):
    client = client_for(personas.admin)
    page = client.get("/surveys/service/", {"location": personas.location_a.pk})
    body = page.content.decode()
    assert page.status_code == 200
    for heading in ("First response", "Conversations per staff member", "No-show rate", "Survey scores"):
        assert heading in body
    assert "The figures have not been rolled up yet" in body  # until the sweep has run once
    assert AuditEntry.objects.filter(object_type="report.service", action="view").exists()
    csv = client.get("/surveys/service.csv", {"location": personas.location_a.pk})
    assert csv.status_code == 200 and "First response" in csv.content.decode()


def test_the_reports_page_shows_the_survey_section(personas, answered, client_for):
    page = client_for(personas.front_a).get(
        "/schedule/reports/reminders", {"location": personas.location_a.pk}
    )
    assert "Post-visit surveys" in page.content.decode()


def test_only_administrators_change_settings_and_bad_values_change_nothing(personas, client_for):
    url = f"/surveys/locations/{personas.location_a.pk}/settings"
    for role in ("front_a", "clinician_a", "billing_a", "front_b"):
        assert client_for(getattr(personas, role)).get(url).status_code == 403
        assert client_for(getattr(personas, role)).post(url, {"enabled": "on"}).status_code == 403
    admin = client_for(personas.admin)
    assert admin.get("/surveys/settings/").status_code == 200
    assert admin.get(url).status_code == 200
    bad = admin.post(url, {"enabled": "on", "scale": "csat", "delay_minutes": "120", "low_score": "7"})
    assert bad.status_code == 400 and "Choose a score from 1 to 5." in bad.content.decode()
    no_url = admin.post(url, {"scale": "csat", "delay_minutes": "120", "review_enabled": "on"})
    assert no_url.status_code == 400
    assert not SurveySettings.objects.exists()
    ok = admin.post(url, {"enabled": "on", "scale": "nps", "delay_minutes": "90", "manager": personas.front_a.pk,
                          "review_enabled": "on", "review_url": "https://reviews.example.test/a"})  # fmt: skip
    assert ok.status_code == 302
    row = SurveySettings.objects.get(location=personas.location_a)
    assert (
        row.enabled and row.scale == Scale.NPS and row.delay_minutes == 90 and row.low == 6 and row.high == 9
    )
    assert AuditEntry.objects.filter(object_type="surveys.surveysettings").exists()
    assert admin.get("/surveys/locations/999999/settings").status_code == 404
