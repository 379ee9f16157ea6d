"""A patient in another time zone than the clinic: visits and slots are shown on the location's clock."""

from __future__ import annotations

import re
from typing import Any

import pytest
import time_machine
from django.urls import reverse

from careline.patients.tests.api_support import api_for
from careline.scheduling.queries.appointments import free_slots
from careline.scheduling.tests.appointment_support import MONDAY, at_a, book, make_schedule

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    with time_machine.travel("2030-12-01T12:00:00Z", tick=False):
        yield


@pytest.fixture
def schedule(personas: Any) -> Any:
    # Pat lives in New York (UTC-5 in January); the clinic is in Chicago (UTC-6).
    personas.pat.time_zone = "America/New_York"
    personas.pat.save(update_fields=["time_zone"])
    return make_schedule(personas)


def test_booking_at_nine_is_nine_on_the_clinic_clock(schedule: Any) -> None:
    appt = book(schedule, at_a(schedule.personas, MONDAY, 9), notify=False)
    assert appt.local_start.strftime("%H:%M %Z") == "09:00 CST"
    assert appt.starts_at.astimezone(schedule.personas.pat.zone).strftime("%H:%M") == "10:00"


def test_slots_follow_the_location_hours_not_the_patient_zone(schedule: Any) -> None:
    p = schedule.personas
    slots = free_slots(appointment_type=schedule.checkup, start=at_a(p, MONDAY, 0), end=at_a(p, MONDAY, 23))
    assert slots[0].local_start.strftime("%H:%M") == "09:00"


def test_slot_page_and_api_show_the_location_time(schedule: Any, client_for: Any) -> None:
    p = schedule.personas
    url = (
        reverse("scheduling:slots")
        + f"?appointment_type={schedule.checkup.pk}&date_from={MONDAY:%Y-%m-%d}&date_to={MONDAY:%Y-%m-%d}"
        + f"&patient={p.pat.pk}"
    )
    page = client_for(p.front_a).get(url).content.decode()
    assert "Mon 6 Jan 2031, 09:00" in page and "Mon 6 Jan 2031, 10:00" in page
    assert "Mon 6 Jan 2031, 08:00" not in page  # the clinic's 09:00 is not shifted to Pat's clock
    api = api_for(p.front_a).get(
        "/slots",
        {"appointment_type_id": schedule.checkup.pk, "from": "2031-01-06T00:00:00-05:00",
         "to": "2031-01-07T00:00:00-05:00", "limit": 1},
    )  # fmt: skip
    assert api.json()[0]["local_starts_at"] == "2031-01-06T09:00:00-06:00"
    assert api.json()[0]["time_zone"] == "America/Chicago"


def test_appointment_page_and_patient_page_show_the_location_time(schedule: Any, client_for: Any) -> None:
    p = schedule.personas
    appt = book(schedule, at_a(p, MONDAY, 9), notify=False)
    client = client_for(p.front_a)
    html = client.get(reverse("scheduling:appointment", args=[appt.pk])).content.decode()
    page = re.sub(r"<[^>]+>", "", html)  # the times are <time> elements
    assert "Mon 6 Jan 2031, 09:00–09:30" in page and "America/Chicago" in page
    # (Reminder due times on the page are in Pat's zone: S2's rule, tested with the reminders.)
    assert "10:00–10:30" not in page and "Checkup · Mon 6 Jan 2031, 09:00" in page
    patient_page = client.get(reverse("patients:detail", args=[p.pat.pk])).content.decode()
    assert "Mon 6 Jan 2031, 09:00" in patient_page
    assert "Mon 6 Jan 2031, 10:00" not in patient_page
    assert api_for(p.front_a).get(f"/appointments/{appt.pk}").json()["local_starts_at"] == (
        "2031-01-06T09:00:00-06:00"
    )
