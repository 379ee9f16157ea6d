"""In a real browser: a visit dragged on the week grid moves (and its reminders with it), a click on an empty
time opens the booking form filled in, and on a phone the page never scrolls sideways."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from careline.scheduling.models import (
    Appointment,
    AppointmentStatus,
    Reminder,
    ReminderRule,
    ReminderState,
    TimeOff,
)
from careline.scheduling.texts import default_template
from careline.testing.browser import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _weekday_ahead(personas: Any, days: int) -> date:
    day = timezone.localdate(timezone.now(), personas.location_a.zone) + timedelta(days=days)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


@pytest.fixture
def visit(personas: Any) -> Appointment:
    from careline.scheduling.tests.appointment_support import at_a, book, make_schedule

    schedule = make_schedule(personas)
    ReminderRule.objects.all().delete()
    ReminderRule.objects.create(name="Day before", minutes_before=24 * 60, template_en=default_template("en"))
    return book(schedule, at_a(personas, _weekday_ahead(personas, 3), 10), notify=False)


# Tall enough for the whole working day: a drag never nears the window's edge, where the grid would scroll.
TALL = {"width": 1280, "height": 1800}


def _grid_url(base: str, personas: Any, view: str, day: date) -> str:
    return f"{base}/schedule/?view={view}&date={day:%Y-%m-%d}&location={personas.location_a.pk}"


def _open_grid(
    page: Any, live_server: Any, personas: Any, visit: Appointment, view: str, *, user: Any = None
) -> Any:
    """Sign in (the front desk unless USER) and open VIEW of location A on VISIT's day; VISIT's card, shown."""
    day = visit.starts_at.astimezone(personas.location_a.zone).date()
    browser_sign_in(page, live_server.url, user or personas.front_a)
    page.goto(_grid_url(live_server.url, personas, view, day))
    card = page.locator(f".ec-event[data-appointment='{visit.pk}']")
    card.wait_for()
    return card


def test_a_visit_dragged_on_the_week_moves_with_its_reminders(
    browser_page: Any, live_server: Any, personas: Any, visit: Appointment
) -> None:
    page = browser_page
    page.set_viewport_size(TALL)
    card = _open_grid(page, live_server, personas, visit, "week")
    assert "10:00–10:30" in card.inner_text() and "Pat Ortega" in card.inner_text()

    # The card is half an hour high: an hour down is twice its height. Grab it a little below its middle.
    box = card.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.6
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x, y + box["height"], steps=5)
    page.mouse.move(x, y + 2 * box["height"], steps=5)
    page.mouse.up()
    page.get_by_role("status").get_by_text("Moved to").wait_for()

    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.RESCHEDULED
    moved = Appointment.objects.get(rescheduled_from=visit)
    assert f"{moved.starts_at.astimezone(personas.location_a.zone):%H:%M}" == "11:00"
    assert Reminder.objects.get(appointment=visit).state == ReminderState.WITHDRAWN
    assert Reminder.objects.get(appointment=moved).due_at == moved.starts_at - timedelta(days=1)
    page.locator(f".ec-event[data-appointment='{moved.pk}']").wait_for()


def test_a_refused_drag_snaps_back_and_says_why(
    browser_page: Any, live_server: Any, personas: Any, visit: Appointment
) -> None:
    page = browser_page
    page.set_viewport_size(TALL)
    card = _open_grid(page, live_server, personas, visit, "week")
    top = card.evaluate("card => card.style.insetBlockStart")
    box = card.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.6
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x, y + 2 * box["height"], steps=5)
    page.mouse.move(x, y + 4 * box["height"], steps=5)  # 12:00: the clinician's lunch break
    page.mouse.up()
    page.get_by_role("status").get_by_text("does not work at Northside Clinic then").wait_for()
    assert card.evaluate("card => card.style.insetBlockStart") == top  # back at 10:00
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED


def test_a_drag_after_signing_out_snaps_back_and_says_so(
    browser_context: Any, live_server: Any, personas: Any, visit: Appointment
) -> None:
    page = browser_context.new_page()
    page.set_viewport_size(TALL)
    card = _open_grid(page, live_server, personas, visit, "week")
    browser_context.clear_cookies()  # the session ended (signed out in another tab, or timed out)
    box = card.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.6
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x, y + box["height"], steps=5)
    page.mouse.move(x, y + 2 * box["height"], steps=5)
    page.mouse.up()
    page.get_by_role("status").get_by_text("Not moved:").wait_for()
    assert "session has ended" in page.get_by_role("status").inner_text()
    assert "10:00" in card.inner_text()
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED


def test_a_visit_of_a_variable_length_type_is_made_longer_by_its_lower_edge(
    browser_page: Any, live_server: Any, personas: Any, visit: Appointment
) -> None:
    visit.appointment_type.variable_length = True
    visit.appointment_type.save()
    page = browser_page
    page.set_viewport_size(TALL)
    card = _open_grid(page, live_server, personas, visit, "day")
    box = card.locator(".ec-resizer").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    card_height = card.bounding_box()["height"]
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x, y + card_height / 2, steps=5)
    page.mouse.move(x, y + card_height, steps=5)  # half an hour longer
    page.mouse.up()
    page.get_by_role("status").get_by_text("Moved to").wait_for()
    longer = Appointment.objects.get(rescheduled_from=visit)
    assert longer.starts_at == visit.starts_at
    assert longer.ends_at - longer.starts_at == timedelta(hours=1)


def test_a_day_of_the_month_opens_that_day(
    browser_page: Any, live_server: Any, personas: Any, visit: Appointment
) -> None:
    page = browser_page
    day = visit.starts_at.astimezone(personas.location_a.zone).date()
    card = _open_grid(page, live_server, personas, visit, "month")
    assert card.inner_text().startswith("10:00")
    TimeOff.objects.create(
        clinician=personas.clinician_a,
        starts_at=visit.starts_at + timedelta(days=1),
        ends_at=visit.starts_at + timedelta(days=1, hours=2),
    )
    page.get_by_role("button", name="Next month").click()
    page.get_by_role("button", name="Previous month").click()
    page.get_by_text("Casey Clinician away 10:00–12:00").wait_for()  # time off, listed on its day
    page.locator(f".ec-day:has(time[datetime='{day:%Y-%m-%d}'])").click(position={"x": 5, "y": 5})
    page.locator(".ec-col-head", has_text=str(personas.clinician_a)).wait_for()
    assert f"view=day&date={day:%Y-%m-%d}" in page.url


def test_details_on_click_link_to_the_appointment(
    browser_page: Any, live_server: Any, personas: Any, visit: Appointment
) -> None:
    page = browser_page
    card = _open_grid(
        page, live_server, personas, visit, "day", user=personas.billing_a
    )  # may look, not move
    card.click()
    details = page.get_by_role("complementary", name="Pat Ortega")
    details.wait_for()
    assert "Casey Clinician" in details.inner_text() and "Checkup" in details.inner_text()
    assert "555" not in details.inner_text()
    assert not details.get_by_role("link", name="Move").is_visible()  # billing may not move visits
    card.press("Escape")
    assert details.is_hidden()
    card.focus()
    card.press("Enter")
    details.wait_for()
    assert page.evaluate("document.activeElement.textContent") == "Open the appointment"
    details.get_by_role("link", name="Open the appointment").click()
    page.wait_for_url(f"**/schedule/appointments/{visit.pk}")


def test_a_click_on_an_empty_time_opens_the_booking_form_filled_in(
    browser_page: Any, live_server: Any, personas: Any, visit: Appointment
) -> None:
    page = browser_page
    page.set_viewport_size(TALL)
    day = visit.starts_at.astimezone(personas.location_a.zone).date()
    card = _open_grid(page, live_server, personas, visit, "day")
    box = card.bounding_box()
    # The visit starts at 10:00 and is two quarter-hour rows high: 14:00 is 16 rows below its top.
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + 8 * box["height"] + box["height"] / 4)
    page.wait_for_url("**/schedule/book?**")
    # The booking page asks for the patient first and keeps the slot through the search.
    page.get_by_label("Find the patient (name or MRN)").fill("Ortega")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Pat Ortega").click()
    assert page.locator("#id_date").input_value() == f"{day:%Y-%m-%d}"
    assert page.locator("#id_time").input_value() == "14:00"
    assert page.locator("#id_clinician").input_value() == str(personas.clinician_a.pk)
    assert page.locator("#id_location").input_value() == str(personas.location_a.pk)


def test_on_a_phone_the_page_does_not_scroll_sideways(
    browser_context: Any, live_server: Any, personas: Any, visit: Appointment
) -> None:
    page = browser_context.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    day = visit.starts_at.astimezone(personas.location_a.zone).date()
    browser_sign_in(page, live_server.url, personas.front_a)
    for view in ("day", "week", "month"):
        page.goto(_grid_url(live_server.url, personas, view, day))
        page.locator(f".ec-event[data-appointment='{visit.pk}']").first.wait_for()
        widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], (view, widths)
    # The week keeps readable columns: its grid scrolls sideways inside its own box instead.
    page.goto(_grid_url(live_server.url, personas, "week", day))
    page.locator(f".ec-event[data-appointment='{visit.pk}']").wait_for()
    grid = page.evaluate("(m => [m.scrollWidth, m.clientWidth])(document.querySelector('.ec-main'))")
    assert grid[0] > grid[1], grid


# Daylight saving starts in Chicago on Sunday 9 March 2031 at 02:00 (08:00 UTC): -06:00 before, -05:00 after.
BEFORE_THE_CHANGE = datetime(2031, 3, 9, 7, 30, tzinfo=UTC)


def test_today_and_the_current_time_follow_the_clocks_changing_within_the_week(
    browser_page: Any, live_server: Any, personas: Any
) -> None:
    page = browser_page
    page.clock.install(time=BEFORE_THE_CHANGE)
    browser_sign_in(page, live_server.url, personas.front_a)
    page.goto(_grid_url(live_server.url, personas, "week", date(2031, 3, 3)))
    page.locator(".ec-col-head").first.wait_for()
    zone = "document.getElementById('calendar').calendar.getOption('timeZone')"
    assert page.evaluate(zone) == "-06:00"  # 01:30 in Chicago, whatever the server's clock says
    page.clock.run_for("01:00:00")  # 03:30 in Chicago: summer time
    assert page.evaluate(zone) == "-05:00"


def test_the_days_stay_named_above_a_long_day(
    browser_page: Any, live_server: Any, personas: Any, visit: Appointment
) -> None:
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 600})
    _open_grid(page, live_server, personas, visit, "week")
    day = visit.starts_at.astimezone(personas.location_a.zone).date()
    head = page.locator(".ec-col-head", has=page.locator(f"time[datetime='{day:%Y-%m-%d}']"))
    # Scrolled to the end of the day, as a mouse wheel over the grid does: the page, then the grid.
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    page.locator(".ec-main").evaluate("main => { main.scrollTop = main.scrollHeight; }")
    last = page.locator(".ec-body .ec-sidebar .ec-slot").last.bounding_box()
    assert last is not None and last["y"] + last["height"] <= 600, "the day's last hour is in sight"
    box = head.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 600, box
    on_top = (
        "h => { const r = h.getBoundingClientRect();"
        " return h.contains(document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2)); }"
    )
    assert head.evaluate(on_top), "the day's name is not covered by the hours scrolled under it"
