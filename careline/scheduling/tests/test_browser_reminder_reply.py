"""In a real browser: staff book a visit in the calendar, its reminder reaches the phone simulator, the patient
replies R then 2, and the calendar shows the visit at its new time."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

import pytest
from django.utils import timezone

from careline.scheduling.models import Appointment, AppointmentStatus, Reminder, ReminderRule
from careline.scheduling.texts import default_template
from careline.testing.browser import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def texting_all_day(settings: Any) -> None:
    # The reminder is an automated text, held in quiet hours: let it go whatever the hour the test runs.
    settings.CARELINE_TEXTING_WINDOW = (time(0, 0), time.max)


def _next_weekday(after: date) -> date:
    day = after
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def test_booked_visit_reminder_reply_r_then_2_moves_it_on_the_calendar(
    browser_context: Any, live_server: Any, personas: Any
) -> None:
    from careline.messaging.services.channels import simulator_channel
    from careline.scheduling.services.reminders import reminders_sweep
    from careline.scheduling.tests.appointment_support import make_schedule

    make_schedule(personas)
    simulator_channel()
    ReminderRule.objects.all().delete()
    ReminderRule.objects.create(name="Day before", minutes_before=24 * 60, template_en=default_template("en"))
    visit_day = _next_weekday(
        timezone.localdate(timezone.now(), personas.location_a.zone) + timedelta(days=3)
    )

    staff = browser_context.new_page()
    browser_sign_in(staff, live_server.url, personas.front_a)

    # Book from the calendar's booking form.
    staff.goto(f"{live_server.url}/schedule/book?patient={personas.pat.pk}")
    staff.locator("#id_appointment_type").select_option(label="Checkup")
    staff.locator("#id_clinician").select_option(label=str(personas.clinician_a))
    staff.locator("#id_location").select_option(label=personas.location_a.name)
    staff.locator("#id_date").fill(visit_day.isoformat())
    staff.locator("#id_time").fill("10:00")
    staff.get_by_role("button", name="Book a visit").click()
    staff.get_by_text("The visit was booked.").wait_for()
    visit = Appointment.objects.get(patient=personas.pat)

    # The reminder falls due (the sweep normally runs on Celery beat).
    Reminder.objects.filter(appointment=visit).update(due_at=timezone.now() - timedelta(minutes=1))
    reminders_sweep()

    phone = browser_context.new_page()
    phone.goto(f"{live_server.url}/inbox/simulator")
    phone.get_by_label("Patient's number").fill("(312) 555-0111")
    phone.get_by_role("button", name="Open phone").click()
    phone.locator("#screen").get_by_text("this is a reminder of your visit", exact=False).wait_for()

    phone.get_by_label("Answer as the patient").fill("R")
    phone.get_by_role("button", name="Send from phone").click()
    phone.locator("#screen").get_by_text("Reply 1, 2 or 3 to move your visit", exact=False).wait_for()
    phone.get_by_label("Answer as the patient").fill("2")
    phone.get_by_role("button", name="Send from phone").click()
    phone.locator("#screen").get_by_text("Done: your visit is now on", exact=False).wait_for()

    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.RESCHEDULED
    moved = Appointment.objects.get(rescheduled_from=visit)
    local = moved.starts_at.astimezone(personas.location_a.zone)

    staff.bring_to_front()
    staff.goto(
        f"{live_server.url}/schedule/?date={local.date().isoformat()}&location={personas.location_a.pk}"
    )
    entry = staff.locator(f".ec-event[data-appointment='{moved.pk}']")
    entry.wait_for()
    assert f"{local:%H:%M}" in entry.inner_text()
    assert "Booked" in (entry.get_attribute("aria-label") or "")
