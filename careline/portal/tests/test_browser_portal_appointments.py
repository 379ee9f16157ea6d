"""In a real browser, on a phone: a patient reschedules a visit in the portal; the portal's appointment pages
(in English and Spanish) and the front desk's visit-request queue have no serious axe-core violation and do
not scroll sideways."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from careline.scheduling.models import Appointment, AppointmentStatus, VisitRequest
from careline.scheduling.tests.appointment_support import at_a, book, make_schedule
from careline.testing.accessibility import PHONE_VIEWPORT, horizontal_overflow, serious_axe_violations
from careline.testing.browser import browser_sign_in
from careline.testing.portal import PORTAL_PASSWORD, browser_portal_trust_device, portal_account_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _weekday_after(days: int, personas: Any) -> date:
    day = timezone.localdate(timezone.now(), personas.location_a.zone) + timedelta(days=days)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _check(page: Any, what: str) -> None:
    assert serious_axe_violations(page) == [], what
    assert horizontal_overflow(page) is None, what


def _portal_sign_in(page: Any, base_url: str, account: Any) -> None:
    browser_portal_trust_device(page, base_url, account)  # no one-time code on this browser
    page.goto(f"{base_url}/portal/signin/")
    page.get_by_label("Email or mobile number").fill(account.email)
    page.get_by_label("Password").fill(PORTAL_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name=f"Hello, {account.display_name}").wait_for()


def test_a_patient_reschedules_a_visit_on_a_phone_and_every_appointment_page_passes(
    browser_context: Any, live_server: Any, personas: Any
) -> None:
    schedule = make_schedule(personas)
    schedule.checkup.bookable_online = True
    schedule.checkup.preparation_instructions = "Bring your medication list."
    schedule.checkup.save()
    visit = book(schedule, at_a(personas, _weekday_after(3, personas), 9), notify=False)
    account = portal_account_for(personas.pat)
    page = browser_context.new_page()
    page.set_viewport_size(PHONE_VIEWPORT)
    _portal_sign_in(page, live_server.url, account)
    _check(page, "home")
    page.get_by_role("link", name="Appointments").first.click()
    page.get_by_role("heading", name="Upcoming").wait_for()
    _check(page, "appointments")
    page.goto(f"{live_server.url}/portal/appointments/request")
    _check(page, "request a visit")
    page.goto(f"{live_server.url}/portal/appointments/{visit.pk}/")
    page.get_by_role("heading", name="How to prepare").wait_for()
    _check(page, "visit")
    page.goto(f"{live_server.url}/portal/appointments/{visit.pk}/cancel")
    _check(page, "cancel")
    page.goto(f"{live_server.url}/portal/appointments/{visit.pk}/confirm")
    _check(page, "confirm")

    page.goto(f"{live_server.url}/portal/appointments/{visit.pk}/")
    page.get_by_role("link", name="Reschedule").click()
    page.get_by_role("heading", name="Reschedule").wait_for()
    _check(page, "reschedule")
    page.locator("input[name=slot]").first.check()
    page.get_by_role("button", name="Move my visit").click()
    page.get_by_text("Your visit is moved.").wait_for()
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.RESCHEDULED
    assert Appointment.objects.get(rescheduled_from=visit).starts_at != visit.starts_at

    page.get_by_role("button", name="Español").click()
    page.get_by_role("heading", name="Cómo prepararse").wait_for()
    _check(page, "visit, Spanish")
    page.goto(f"{live_server.url}/portal/appointments/")
    page.get_by_role("heading", name="Próximas").wait_for()
    _check(page, "appointments, Spanish")


def test_the_visit_request_queue_passes_on_a_phone(
    browser_context: Any, live_server: Any, personas: Any
) -> None:
    schedule = make_schedule(personas)
    VisitRequest.objects.create(
        patient=personas.pat, appointment_type=schedule.checkup, location=personas.location_a,
        preferred_days=[0], preferred_times=["morning"], reason="Knee pain",
    )  # fmt: skip
    page = browser_context.new_page()
    page.set_viewport_size(PHONE_VIEWPORT)
    browser_sign_in(page, live_server.url, personas.front_a)
    page.goto(f"{live_server.url}/schedule/requests/")
    page.get_by_role("heading", name="Visit requests").wait_for()
    _check(page, "visit requests")
    page.get_by_label(f"Reason told to {personas.pat.display_name}").select_option(
        label="We need to talk with you to find the right visit."
    )
    page.get_by_role("button", name="Decline").click()
    page.get_by_text("The request was declined and the patient told.").wait_for()
