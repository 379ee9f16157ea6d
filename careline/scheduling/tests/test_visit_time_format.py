"""The appointment pages write every moment one way: 'Mon 6 Jan 2031, 09:00' on the location's clock."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from django.urls import reverse

from careline.scheduling.models import ReminderRule
from careline.scheduling.tests.appointment_support import MONDAY, at_a, book, make_schedule
from careline.scheduling.tests.reminders_support import days_rule

pytestmark = [pytest.mark.django_db, pytest.mark.clock(datetime(2030, 12, 1, 12, 0, tzinfo=UTC))]

# Other ways the pages used to write times: "06 Jan", "January", "Monday", "6 Jan 2031 09:00", "9:00 AM".
OTHER_FORMATS = re.compile(
    r"\b0\d (Jan|Feb)\b|January|Monday|\b\d{1,2} Jan 2031 \d\d:\d\d|\d:\d\d ?[AP]\.?M", re.IGNORECASE
)


@pytest.fixture
def visit(personas: Any) -> Any:
    ReminderRule.objects.all().delete()
    days_rule(2, time(10, 0), channel="sms")
    return book(make_schedule(personas), at_a(personas, MONDAY, 9), notify=False)


def test_each_appointment_page_uses_the_one_format(
    personas: Any, client_for: Any, clock: Any, visit: Any
) -> None:
    client = client_for(personas.front_a)
    pages = {
        "visit": reverse("scheduling:appointment", args=[visit.pk]),
        "move": reverse("scheduling:move", args=[visit.pk]),
        "cancel": reverse("scheduling:cancel", args=[visit.pk]),
        "slots": f"{reverse('scheduling:slots')}?move={visit.pk}",
    }
    for name, url in pages.items():
        response = client.get(url)
        html = response.content.decode()
        assert response.status_code == 200, name
        assert "Mon 6 Jan 2031, 09:00" in html, name
        assert not OTHER_FORMATS.search(html), (name, OTHER_FORMATS.search(html))
    visit_page = client.get(pages["visit"]).content.decode()
    assert '<time datetime="2031-01-06T15:00:00+00:00">Mon 6 Jan 2031, 09:00</time>' in visit_page
    assert "–<time" in visit_page and ">09:30</time>" in visit_page  # the end, as a time of day
    assert "Sat 4 Jan 2031, 10:00 CST" in visit_page  # the reminder, on the patient's clock


def test_the_status_history_names_statuses_as_staff_read_them(
    personas: Any, client_for: Any, clock: Any, visit: Any
) -> None:
    from careline.core.actor import Actor
    from careline.scheduling.services.appointments import appointment_set_status

    appointment_set_status(
        appointment=visit, status="confirmed", actor=Actor.staff(personas.front_a), source="staff"
    )
    html = (
        client_for(personas.front_a).get(reverse("scheduling:appointment", args=[visit.pk])).content.decode()
    )
    assert "<strong>Booked → Confirmed</strong>" in html and "booked →" not in html


def test_a_taken_time_is_named_the_same_way(personas: Any, client_for: Any, clock: Any, visit: Any) -> None:
    schedule_type = visit.appointment_type
    data = {"patient": personas.quinn.pk, "appointment_type": schedule_type.pk, "clinician": personas.clinician_a.pk,
            "location": personas.location_a.pk, "date": f"{MONDAY:%Y-%m-%d}", "time": "09:00"}  # fmt: skip
    response = client_for(personas.admin).post(reverse("scheduling:book"), data)
    assert response.status_code == 400
    assert "already has a visit from 09:00 to 09:30 on Mon 6 Jan 2031." in response.content.decode()
    first = f"{MONDAY - timedelta(weeks=1):%Y-%m-%d}"
    series_data = {**data, "date": first, "count": 2, "interval_weeks": 1}
    series = client_for(personas.admin).post(reverse("scheduling:series"), series_data)
    assert "Mon 6 Jan 2031: " in series.content.decode()
