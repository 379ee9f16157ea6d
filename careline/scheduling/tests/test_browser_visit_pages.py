"""In a real browser, on a phone: the booking form's free-slot link follows the choices, and a visit moves
through "Find a free slot" -> "Move here" -> confirm. No page scrolls sideways."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from careline.scheduling.models import Appointment, AppointmentStatus
from careline.scheduling.tests.appointment_support import at_a, book, make_schedule
from careline.testing.browser import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _weekday_after(days: int, personas: Any) -> date:
    day = timezone.localdate(timezone.now(), personas.location_a.zone) + timedelta(days=days)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _no_sideways_scroll(page: Any) -> None:
    assert page.evaluate("document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth")


def test_free_slot_link_follows_the_choices_and_move_here_moves_the_visit(
    browser_context: Any, live_server: Any, personas: Any
) -> None:
    schedule = make_schedule(personas)
    visit = book(schedule, at_a(personas, _weekday_after(3, personas), 9), notify=False)
    page = browser_context.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    browser_sign_in(page, live_server.url, personas.front_a)

    page.goto(f"{live_server.url}/schedule/book?patient={personas.pat.pk}")
    page.locator("#id_appointment_type").select_option(label="Checkup")
    page.locator("#id_clinician").select_option(label=str(personas.clinician_a))
    _no_sideways_scroll(page)
    page.get_by_role("link", name="Pick from free slots instead").click()
    page.get_by_role("heading", name="Free slots").wait_for()
    assert page.locator("#id_appointment_type").input_value() == str(schedule.checkup.pk)
    assert page.locator("#id_clinician").input_value() == str(personas.clinician_a.pk)
    assert page.get_by_role("link", name="Book").count() > 0
    _no_sideways_scroll(page)

    page.goto(f"{live_server.url}/schedule/appointments/{visit.pk}")
    _no_sideways_scroll(page)
    page.get_by_role("link", name="Find a free slot").click()
    page.get_by_role("heading", name="Moving a visit").wait_for()
    _no_sideways_scroll(page)
    page.get_by_role("link", name="Move here").first.click()
    page.get_by_role("button", name="Move the visit").click()
    page.get_by_text("The visit was moved.").wait_for()
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.RESCHEDULED
    assert Appointment.objects.get(rescheduled_from=visit).starts_at != visit.starts_at
