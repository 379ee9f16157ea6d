"""In a real browser, as a nurse would: the worklist (open an alert, see the chart, acknowledge, add a note,
log a call, reply by text, resolve with an outcome), enrolling a patient, entering a reading, the on-call rota
(add a shift, see it on the grid) and acknowledging a page; at a desktop's size and a phone's (390 x 844,
no sideways scrolling, no serious axe finding)."""

from __future__ import annotations

from datetime import time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from careline.care.models import (
    AlertKind,
    AlertState,
    CareAlert,
    CareAlertCall,
    CareAlertNote,
    Enrolment,
    Reading,
    Severity,
)
from careline.care.services.alerts import alert_open
from careline.care.services.readings import reading_add_by_staff
from careline.care.tests.support import enrolled, text
from careline.core.actor import Actor
from careline.messaging.models import Message
from careline.oncall.models import OnCallShift, Page, PageState
from careline.oncall.tests.helpers import shift
from careline.testing.accessibility import horizontal_overflow, serious_axe_violations
from careline.testing.browser import (
    DESKTOP,
    PHONE,
    browser_controls_out_of_view,
    browser_sideways_overflow,
    browser_sign_in,
    browser_sign_in_with_code,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SIZES = pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])


@pytest.fixture(autouse=True)
def texting_all_day(settings: Any) -> None:
    # The nurse's text opens the conversation, so quiet hours would hold it at night: let it go at any hour.
    settings.CARELINE_TEXTING_WINDOW = (time(0, 0), time.max)


def _fits(page: Any, where: str) -> None:
    """The page now shown fits its window and has no serious accessibility finding."""
    page.wait_for_load_state("networkidle")
    assert horizontal_overflow(page) is None, f"{where} scrolls sideways"
    assert [v.describe(where) for v in serious_axe_violations(page)] == []


def _alerts(personas: Any) -> tuple[CareAlert, CareAlert]:
    """Pat's critical blood pressure (with a week of readings for the chart) and a missed check-ins task."""
    enrolment = enrolled(personas.pat, personas.clinician_a)
    nurse = Actor.staff(personas.clinician_a)
    for days, systolic in ((6, 128), (4, 142), (2, 131)):
        reading_add_by_staff(
            patient=personas.pat, measure="blood_pressure", value=Decimal(systolic), value2=Decimal(84),
            taken_at=timezone.now() - timedelta(days=days), actor=nurse,
        )  # fmt: skip
    reading_add_by_staff(
        patient=personas.pat, measure="blood_pressure", value=Decimal(190), value2=Decimal(100),
        taken_at=timezone.now() - timedelta(minutes=5), actor=nurse,
    )  # fmt: skip
    text("Feeling a bit dizzy today")  # Pat's conversation, where the nurse answers
    missed = alert_open(
        enrolment=enrolment, kind=AlertKind.MISSED, severity=Severity.WARNING,
        summary="2 check-ins in a row without an answer: call the patient", reading=None, now=timezone.now(),
    )  # fmt: skip
    return CareAlert.objects.get(kind=AlertKind.THRESHOLD), missed


@SIZES
def test_a_nurse_works_an_alert_from_the_worklist(
    browser_page: Any, live_server: Any, personas: Any, size: Any
):
    threshold, missed = _alerts(personas)
    page = browser_page
    page.set_viewport_size(size)
    browser_sign_in(page, live_server.url, personas.clinician_a)
    page.goto(f"{live_server.url}/care/")
    _fits(page, "worklist")

    # The missed check-ins' call task, in one click from the worklist.
    row = page.locator("tr", has_text="Missed check-ins")
    row.get_by_role("link", name="(312) 555-0111").wait_for()
    row.get_by_role("button", name="No answer").click()
    page.get_by_text("Call to Pat Ortega logged: no answer.").wait_for()
    assert CareAlertCall.objects.get().alert == missed
    page.locator("tr", has_text="Missed check-ins").get_by_text("Last call: No answer").wait_for()

    # A row's trend is loaded when the row's "Trend" is opened: the readings with the thresholds drawn.
    trend_row = page.locator("tr", has_text="Reading beyond a threshold")
    assert trend_row.locator("svg").count() == 0
    trend_row.get_by_text("Trend (30 days)").click()
    trend_row.locator("svg.care-chart").wait_for()
    assert trend_row.locator("svg line[stroke-dasharray]").count() >= 2

    # Open the critical alert: the chart with its thresholds.
    page.locator("tr", has_text="Reading beyond a threshold").get_by_role("link", name="Pat Ortega").click()
    page.get_by_role("heading", name="Trends (30 days)").wait_for()
    assert page.locator("svg").first.is_visible()
    assert page.locator("svg line[stroke-dasharray]").count() >= 2
    _fits(page, "alert")

    page.get_by_role("button", name="Acknowledge").click()
    page.get_by_text("Alert acknowledged.").wait_for()
    page.get_by_label("Note").fill("Rechecking in an hour; advised rest.")
    page.get_by_role("button", name="Add note").click()
    page.get_by_text("Rechecking in an hour; advised rest.").wait_for()
    assert CareAlertNote.objects.get().alert == threshold

    page.get_by_role("button", name="Reached").click()
    page.get_by_text("Call to Pat Ortega logged: reached.").wait_for()
    page.get_by_role("heading", name="Calls").wait_for()

    # Reply by text: one click opens the conversation with Pat, ready to write.
    alert_url = page.url
    page.get_by_role("link", name="Reply by text").click()
    page.get_by_label("Message", exact=True).fill("Hi Pat, a nurse will call you shortly.")
    page.get_by_role("button", name="Send text").click()
    page.get_by_text("Hi Pat, a nurse will call you shortly.").first.wait_for()
    assert Message.objects.filter(direction="out", body="Hi Pat, a nurse will call you shortly.").exists()

    page.goto(alert_url)
    page.get_by_label("Outcome").select_option("advice")
    page.get_by_role("button", name="Resolve").click()
    page.get_by_text("Alert resolved.").wait_for()
    _fits(page, "worklist after resolving")
    threshold.refresh_from_db()
    assert (threshold.state, threshold.outcome) == (AlertState.RESOLVED, "advice")


@SIZES
def test_a_clinician_enrols_a_patient_and_enters_a_reading_by_phone(
    browser_page: Any, live_server: Any, personas: Any, size: Any
):
    from careline.care.tests.support import programs_seeded

    programs_seeded()
    page = browser_page
    page.set_viewport_size(size)
    browser_sign_in(page, live_server.url, personas.clinician_a)
    page.goto(f"{live_server.url}/patients/{personas.pat.pk}")
    page.get_by_role("link", name="Enrol in a program").first.click()
    _fits(page, "enrol")
    page.get_by_label("Program").select_option(label="Hypertension")
    page.get_by_label("Channel").select_option("text")
    page.get_by_role("button", name="Enrol").click()
    page.get_by_text("Enrolled. Check-ins are planned").wait_for()
    assert Enrolment.objects.get().patient == personas.pat
    _fits(page, "care patient page")

    page.get_by_role("link", name="Enter a reading").click()
    page.get_by_label("Measure").select_option("blood_pressure")
    page.get_by_label("Value").fill("150")
    page.get_by_label("Diastolic (blood pressure only)").fill("95")
    _fits(page, "reading form")
    page.get_by_role("button", name="Record reading").click()
    page.get_by_text("Reading recorded.").wait_for()
    reading = Reading.objects.get()
    assert (reading.value, reading.value2, reading.source) == (Decimal(150), Decimal(95), "staff")
    page.get_by_role("cell", name="150/95").first.wait_for()


@SIZES
def test_an_administrator_adds_an_on_call_shift_and_sees_it_on_the_grid(
    browser_page: Any, live_server: Any, personas: Any, size: Any
):
    page = browser_page
    page.set_viewport_size(size)
    browser_sign_in_with_code(page, live_server.url, personas.admin)
    page.goto(f"{live_server.url}/on-call/?location={personas.location_a.pk}")
    _fits(page, "rota")
    page.get_by_role("link", name="Add a shift").click()
    today = timezone.now().astimezone(personas.location_a.zone).date()
    page.get_by_label("Location").select_option(str(personas.location_a.pk))
    page.get_by_label("On call").select_option(label=str(personas.clinician_a))
    page.get_by_label("From").fill(f"{today:%Y-%m-%d}T18:00")
    page.get_by_label("Until").fill(f"{today + timedelta(days=1):%Y-%m-%d}T08:00")
    _fits(page, "shift form")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("The on-call shift is saved.").wait_for()
    saved = OnCallShift.objects.get()
    assert saved.clinician == personas.clinician_a
    cell = page.locator(".rota-grid td", has_text=f"{today:%-d %b}").first
    cell.get_by_text("18:00").wait_for()
    cell.get_by_role("link", name=str(personas.clinician_a)).wait_for()
    _fits(page, "rota with the shift")


@SIZES
def test_the_clinician_on_call_acknowledges_a_page(
    browser_page: Any, live_server: Any, personas: Any, size: Any
):
    now = timezone.now()
    row = shift(personas.location_a, personas.clinician_a, now - timedelta(hours=1), now + timedelta(hours=8))
    paged = Page.objects.create(
        location=personas.location_a, reason="critical-reading", link_path="/care/", shift=row,
        clinician=personas.clinician_a, created_at=now, escalate_at=now + timedelta(minutes=15),
    )  # fmt: skip
    page = browser_page
    page.set_viewport_size(size)
    browser_sign_in(page, live_server.url, personas.clinician_a)
    page.goto(f"{live_server.url}/on-call/pages/")
    _fits(page, "pages")
    page.goto(f"{live_server.url}/on-call/pages/{paged.pk}")
    _fits(page, "page")
    page.get_by_role("button", name="Acknowledge").click()
    page.get_by_text("Acknowledged: the backup will not be paged.").wait_for()
    paged.refresh_from_db()
    assert paged.state == PageState.ACKNOWLEDGED and paged.acknowledged_by == personas.clinician_a
    assert page.get_by_role("button", name="Acknowledge").count() == 0


@SIZES
def test_the_worklist_keeps_every_action_on_screen_and_pages_through_many_alerts(
    browser_page: Any, live_server: Any, personas: Any, size: Any
):
    from careline.care.tests.test_worklist import _alerts as many_alerts

    _alerts(personas)
    many_alerts(personas, 60)
    page = browser_page
    page.set_viewport_size(size)
    browser_sign_in(page, live_server.url, personas.clinician_a)
    page.goto(f"{live_server.url}/care/")
    _fits(page, "worklist with many alerts")
    # On a phone each alert is a card: its buttons (reply, acknowledge, the call's outcomes) are on screen.
    assert browser_sideways_overflow(page) == 0
    assert browser_controls_out_of_view(page) == []
    page.get_by_text("62 open").first.wait_for()
    page.get_by_role("link", name="Next page").click()
    page.get_by_role("link", name="First page").wait_for()
    assert "after=" in page.url
    assert browser_controls_out_of_view(page) == []
    # An action on the second page comes back to the second page.
    second = page.url
    page.get_by_role("button", name="Acknowledge").first.click()
    page.get_by_text("Alert acknowledged.").wait_for()
    assert page.url == second
    # The filters narrow the list and say how many match.
    page.get_by_label("Only unacknowledged").check()
    page.get_by_role("button", name="Show").click()
    page.get_by_text("match the filters").wait_for()
    assert "unacknowledged=on" in page.url and "after=" not in page.url
    assert browser_controls_out_of_view(page) == []
