"""No date or number typed into a form or a query parameter, however extreme, produces a server error.

Dates at the ends of Python's calendar (year 1, year 9999) used to overflow in week arithmetic, zone
conversion and "a day before" reminders; ids such as '²' or thirty digits used to overflow or crash int().
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from careline.core.dates import (
    BoundedDateField,
    DateOutOfRangeError,
    birth_date_bounds,
    parse_date,
    parse_local_datetime,
    schedule_bounds,
)
from careline.core.params import page_number, row_id
from careline.messaging.tests.h3_support import scheduled_message
from careline.patients.tests.api_support import api_for
from careline.scheduling.tests.appointment_support import MONDAY, at_a, book, make_schedule

pytestmark = pytest.mark.django_db

EXTREME_DATES = [
    "0001-01-01", "9999-12-31", "1899-12-31", "1900-01-01", "2200-12-31", "2201-01-01", "0000-00-00",
    "2031-02-30", "10000-01-01", "-0001-01-01", "2031-01-06", "1980-04-12", "04/12/1980", "²", "",
]  # fmt: skip
EXTREME_MOMENTS = [
    "9999-12-31T23:59", "9999-12-31 23:59", "0001-01-01T00:00", "9999-12-31T23:59:59+14:00",
    "0001-01-01T00:00:00-12:00", "9999-12-31T23:59:59Z", "2031-01-06T09:00", "2031-01-06T09:00:00-06:00",
    "2200-12-31T23:59", "1900-01-01T00:00",
]  # fmt: skip
EXTREME_NUMBERS = [
    "0", "-1", "1", "²", "١", "9" * 30, "9223372036854775807", "9223372036854775808", "2147483648",
    "1e5", "1.5", " 1", "", "NaN",
]  # fmt: skip

dates = st.sampled_from(EXTREME_DATES) | st.dates().map(lambda d: d.isoformat()) | st.text(max_size=12)
moments = (
    st.sampled_from(EXTREME_MOMENTS)
    | st.datetimes().map(lambda d: d.isoformat(timespec="minutes"))
    | st.text(max_size=20)
)
numbers = st.sampled_from(EXTREME_NUMBERS) | st.integers(-(2**70), 2**70).map(str) | st.text(max_size=6)
times = st.sampled_from(["09:00", "23:59", "24:00", "00:00", "9", ""]) | st.text(max_size=6)

FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def world(personas: Any, client_for: Any) -> dict[str, Any]:
    """An administrator's client, a schedule with one visit, a conversation and a scheduled message."""
    schedule = make_schedule(personas)
    appointment = book(schedule, at_a(personas, MONDAY, 9), notify=False)
    message = scheduled_message(personas.pat)
    return {
        "client": client_for(personas.admin),
        "api": api_for(personas.front_a),
        "personas": personas,
        "type": schedule.checkup,
        "appointment": appointment,
        "message": message,
    }


def _ok(response: Any) -> None:
    assert response.status_code < 500, response.content[:300]


# --- the shared parsers --------------------------------------------------------------------------------


def test_the_calendar_ends_are_refused_with_the_range_in_the_message() -> None:
    for text in ("0001-01-01", "9999-12-31"):
        with pytest.raises(DateOutOfRangeError, match="Enter a date between"):
            parse_date(text, schedule_bounds)
    with pytest.raises(DateOutOfRangeError):
        parse_local_datetime("9999-12-31T23:59")
    today = timezone.localdate()
    assert parse_date(today.isoformat(), schedule_bounds) == today
    field = BoundedDateField(bounds=birth_date_bounds)
    with pytest.raises(Exception, match="Enter a date between 1900-01-01"):
        field.clean("1899-12-31")
    assert field.clean("1980-04-12").year == 1980


def test_ids_and_page_numbers_refuse_what_int_or_the_database_cannot_take() -> None:
    assert [row_id(v) for v in ("²", "١", "9" * 30, "0", "-1", "", None, "12")] == [None] * 7 + [12]
    assert row_id("9223372036854775807") == 2**63 - 1
    assert row_id("9223372036854775808") is None
    assert [page_number(v, 400) for v in ("²", "9" * 30, "0", "3", "999")] == [1, 1, 1, 3, 400]


# --- the pages named in the report ---------------------------------------------------------------------


def test_the_reported_dates_answer_with_a_message_not_an_error(world: dict[str, Any]) -> None:
    client: Client = world["client"]
    appointment = world["appointment"]
    response = client.get(reverse("scheduling:calendar"), {"date": "0001-01-01"}, follow=True)
    assert response.status_code == 200
    assert "Enter a date between" in response.content.decode()
    assert (
        client.get(reverse("scheduling:calendar"), {"date": "9999-12-31", "view": "week"}).status_code == 200
    )
    response = client.get(reverse("patients:handoff"), {"since": "9999-12-31T23:59"})
    assert response.status_code == 400 or "Enter a date between" in response.content.decode()
    booking = {
        "patient": world["personas"].pat.pk, "appointment_type": world["type"].pk,
        "clinician": world["personas"].clinician_a.pk, "location": world["personas"].location_a.pk,
        "date": "9999-12-31", "time": "23:59",
    }  # fmt: skip
    response = client.post(reverse("scheduling:book"), booking)
    assert response.status_code == 400
    assert "Enter a date between" in response.content.decode()
    move = {k: v for k, v in booking.items() if k not in ("patient", "appointment_type")}
    response = client.post(reverse("scheduling:move", args=[appointment.pk]), move)
    assert response.status_code == 400
    message = world["message"]
    response = client.post(
        reverse("messaging:scheduled_edit", args=[message.pk]), {"body": "x", "send_at": "9999-12-31T23:59"}
    )
    assert response.status_code == 400
    assert "Enter a date between" in response.content.decode()
    conversation = message.conversation
    response = client.post(
        reverse("messaging:conversation", args=[conversation.pk]),
        {"body": "x", "send_at": "9999-12-31T23:59"},
    )
    assert response.status_code < 500
    assert not conversation.messages.filter(body="x").exists()


# --- every form and query parameter that takes a date or a number ---------------------------------------


@FUZZ
@given(day=dates, view=st.sampled_from(["day", "week", "month"]), location=numbers, clinician=numbers)
def test_calendar(world: dict[str, Any], day: str, view: str, location: str, clinician: str) -> None:
    params = {"date": day, "view": view, "location": location, "clinician": clinician}
    _ok(world["client"].get(reverse("scheduling:calendar"), params))


@FUZZ
@given(
    first=dates, last=dates, view=st.sampled_from(["day", "week", "month", "", "year"]) | st.text(max_size=6),
    location=numbers, clinician=numbers,
)  # fmt: skip
def test_calendar_events(
    world: dict[str, Any], first: str, last: str, view: str, location: str, clinician: str
) -> None:
    params = {"start": first, "end": last, "view": view, "location": location, "clinician": clinician}
    response = world["client"].get(reverse("scheduling:calendar_events"), params)
    _ok(response)
    assert response.status_code != 400 or response.json()["error"]


@FUZZ
@given(day=dates, clock=times, clinician=numbers, minutes=numbers)
def test_calendar_move(world: dict[str, Any], day: str, clock: str, clinician: str, minutes: str) -> None:
    url = reverse("scheduling:calendar_move", args=[world["appointment"].pk])
    body = {"date": day, "time": clock, "clinician": clinician, "duration_minutes": minutes}
    response = world["client"].post(url, body)
    _ok(response)
    assert response.status_code != 400 or response.json()["error"]


@FUZZ
@given(first=dates, last=dates, kind=numbers, clinician=numbers, patient=numbers)
def test_slot_search(
    world: dict[str, Any], first: str, last: str, kind: str, clinician: str, patient: str
) -> None:
    params = {"appointment_type": kind, "date_from": first, "date_to": last, "clinician": clinician,
              "patient": patient}  # fmt: skip
    _ok(world["client"].get(reverse("scheduling:slots"), params))
    params["appointment_type"] = str(world["type"].pk)
    _ok(world["client"].get(reverse("scheduling:slots"), params))


@FUZZ
@given(day=dates, clock=times, patient=numbers, kind=numbers, clinician=numbers, location=numbers)
def test_book(
    world: dict[str, Any], day: str, clock: str, patient: str, kind: str, clinician: str, location: str
) -> None:
    client, p = world["client"], world["personas"]
    query = {"date": day, "time": clock, "type": kind, "clinician": clinician, "location": location,
             "patient": patient}  # fmt: skip
    _ok(client.get(reverse("scheduling:book"), query))
    form = {"patient": p.pat.pk, "appointment_type": world["type"].pk, "clinician": p.clinician_a.pk,
            "location": p.location_a.pk, "date": day, "time": clock}  # fmt: skip
    _ok(client.post(reverse("scheduling:book"), form))
    _ok(client.post(reverse("scheduling:book"), {**form, "patient": patient, "clinician": clinician}))


@FUZZ
@given(day=dates, clock=times, count=numbers, interval=numbers)
def test_move_and_series(world: dict[str, Any], day: str, clock: str, count: str, interval: str) -> None:
    client, p = world["client"], world["personas"]
    form = {"clinician": p.clinician_a.pk, "location": p.location_a.pk, "date": day, "time": clock}
    _ok(client.post(reverse("scheduling:move", args=[world["appointment"].pk]), form))
    series = {**form, "patient": p.pat.pk, "appointment_type": world["type"].pk, "count": count,
              "interval_weeks": interval}  # fmt: skip
    _ok(client.post(reverse("scheduling:series"), series))


@FUZZ
@given(first=dates, last=dates, patient=numbers)
def test_waitlist_and_time_off(world: dict[str, Any], first: str, last: str, patient: str) -> None:
    client, p = world["client"], world["personas"]
    _ok(client.get(reverse("scheduling:waitlist"), {"patient": patient}))
    entry = {"patient_id": p.pat.pk, "appointment_type": world["type"].pk, "location": p.location_a.pk,
             "earliest_date": first, "latest_date": last}  # fmt: skip
    _ok(client.post(reverse("scheduling:waitlist"), entry))
    off = {"form": "time_off", "first_day": first, "last_day": last, "reason": "x"}
    _ok(client.post(reverse("scheduling:hours_edit", args=[p.clinician_a.pk]), off))


@FUZZ
@given(since=moments, location=numbers, clinician=numbers)
def test_handoff(world: dict[str, Any], since: str, location: str, clinician: str) -> None:
    params = {"since": since, "location": location, "clinician": clinician}
    _ok(world["client"].get(reverse("patients:handoff"), params))


@FUZZ
@given(send_at=moments)
def test_send_later_and_scheduled_edit(world: dict[str, Any], send_at: str) -> None:
    client, message = world["client"], world["message"]
    _ok(client.post(reverse("messaging:conversation", args=[message.conversation.pk]),
                    {"body": "Hello", "send_at": send_at}))  # fmt: skip
    _ok(
        client.post(
            reverse("messaging:scheduled_edit", args=[message.pk]), {"body": "Hi", "send_at": send_at}
        )
    )


@FUZZ
@given(first=dates, last=dates, location=numbers)
def test_reports(world: dict[str, Any], first: str, last: str, location: str) -> None:
    params = {"start": first, "end": last, "location": location}
    _ok(world["client"].get(reverse("scheduling:reminders_report"), params))
    _ok(world["client"].get(reverse("scheduling:reminders_report_csv"), params))


@FUZZ
@given(first=dates, last=dates, patient=numbers, actor=numbers, page=numbers)
def test_audit_filters(
    world: dict[str, Any], first: str, last: str, patient: str, actor: str, page: str
) -> None:
    params = {"date_from": first, "date_to": last, "patient": patient, "actor": actor, "page": page}
    _ok(world["client"].get(reverse("audit:list"), params))
    _ok(world["client"].get(reverse("audit:export"), params))


@FUZZ
@given(born=dates, page=numbers, patient=numbers)
def test_patient_pages(world: dict[str, Any], born: str, page: str, patient: str) -> None:
    client, p = world["client"], world["personas"]
    _ok(client.get(reverse("patients:list"), {"q": born, "page": page}))
    _ok(client.get(reverse("messaging:start"), {"patient": patient}))
    _ok(client.post(reverse("messaging:start"), {"patient": patient}))
    form = {"legal_first_name": "Ann", "legal_last_name": "Lee", "date_of_birth": born, "sex": "female",
            "language": "en", "primary_location": p.location_a.pk, "country": "US"}  # fmt: skip
    _ok(client.post(reverse("patients:create"), form))


@FUZZ
@given(first=moments, last=moments, limit=numbers, offset=numbers, born=dates)
def test_api_parameters(
    world: dict[str, Any], first: str, last: str, limit: str, offset: str, born: str
) -> None:
    api, p = world["api"], world["personas"]
    _ok(api.get("/appointments", {"from": first, "to": last, "limit": limit, "offset": offset}))
    _ok(api.get("/slots", {"from": first, "to": last, "appointment_type_id": str(world["type"].pk)}))
    _ok(api.get("/patients", {"q": born, "limit": limit, "offset": offset}))
    _ok(api.get("/messages", {"patient_id": str(p.pat.pk), "limit": limit, "offset": offset}))
    _ok(api.post("/messages", {"patient_id": p.pat.pk, "body": "Hello", "send_at": first}))
    _ok(api.post("/appointments", {"patient_id": p.pat.pk, "clinician_id": p.clinician_a.pk,
                                   "location_id": p.location_a.pk, "appointment_type_id": world["type"].pk,
                                   "starts_at": first}))  # fmt: skip
    _ok(api.patch(f"/appointments/{world['appointment'].pk}", {"starts_at": last}))
    _ok(api.patch(f"/patients/{p.pat.pk}", {"date_of_birth": born}))


def test_a_time_in_range_still_books(world: dict[str, Any]) -> None:
    """The bounds leave ordinary dates alone: next week at 10:00 books."""
    client, p = world["client"], world["personas"]
    day = timezone.localdate() + timedelta(days=7)
    while day.weekday() > 4:
        day += timedelta(days=1)
    form = {"patient": p.pat.pk, "appointment_type": world["type"].pk, "clinician": p.clinician_a.pk,
            "location": p.location_a.pk, "date": day.isoformat(), "time": "10:00"}  # fmt: skip
    assert client.post(reverse("scheduling:book"), form).status_code == 302


@FUZZ
@given(days=numbers, minutes=numbers, duration=numbers, timing=st.sampled_from(["days", "minutes", "x"]))
def test_reminder_rule_and_visit_type_numbers(
    world: dict[str, Any], days: str, minutes: str, duration: str, timing: str
) -> None:
    client = world["client"]
    rule = {"name": "Rule", "timing": timing, "days_before": days, "at_local_time": "10:00",
            "minutes_before": minutes, "template_en": "Hi {first_name}", "is_active": "on"}  # fmt: skip
    _ok(client.post(reverse("scheduling:reminder_rule_create"), rule))
    kind = {"name": "Visit", "duration_minutes": duration, "is_active": "on"}
    _ok(client.post(reverse("scheduling:type_create"), kind))
