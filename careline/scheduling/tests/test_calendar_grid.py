"""The calendar's time grid: the page, its event feed (scoped, audited, constant queries, bad input refused) and
visits dragged or resized on it (the move form's service, its checks and its effects)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.urls import reverse

from careline.core.models import AuditEntry
from careline.messaging.models import Message
from careline.patients.models import Patient
from careline.scheduling.models import (
    Appointment,
    AppointmentStatus,
    Reminder,
    ReminderRule,
    ReminderState,
    TimeOff,
    WaitlistEntry,
    WaitlistOffer,
)
from careline.scheduling.tests.appointment_support import MONDAY, Schedule, at_a, book
from careline.scheduling.tests.replies_support import NOW, chicago, patient_with_phone, setup
from careline.scheduling.texts import default_template
from careline.testing.personas import Personas

pytestmark = [pytest.mark.django_db, pytest.mark.clock(NOW), pytest.mark.usefixtures("clock")]
FEED = "scheduling:calendar_events"


@pytest.fixture
def schedule(personas: Personas) -> Schedule:
    return setup(personas)


def _feed(client: Any, personas: Personas, **params: Any) -> Any:
    query = {"start": f"{MONDAY:%Y-%m-%d}", "end": f"{MONDAY + timedelta(days=1):%Y-%m-%d}", "view": "day",
             "location": personas.location_a.pk, **params}  # fmt: skip
    return client.get(reverse(FEED), {k: v for k, v in query.items() if v is not None})


def _visits(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in body["events"] if e.get("display") != "background"]


def _background(body: dict[str, Any], kind: str) -> list[tuple[str, str]]:
    return [(e["start"], e["end"]) for e in body["events"] if kind in e.get("classNames", [])]


# --- the page ------------------------------------------------------------------------------------------


def test_the_page_opens_on_the_next_day_the_location_opens(
    personas: Personas, client_for: Any, clock: Any
) -> None:
    clock.move_to(chicago(date(2031, 1, 4), 10))  # a Saturday: location A opens Monday to Friday
    page = client_for(personas.front_a).get(reverse("scheduling:calendar")).content.decode()
    assert 'data-date="2031-01-06"' in page
    clock.move_to(chicago(date(2031, 1, 7), 10))  # a Tuesday: open today
    page = client_for(personas.front_a).get(reverse("scheduling:calendar")).content.decode()
    assert 'data-date="2031-01-07"' in page


def test_the_page_carries_the_grid_settings_and_no_patient_data(
    personas: Personas, client_for: Any, schedule: Schedule
) -> None:
    book(schedule, at_a(personas, MONDAY, 9), notify=False)
    url = (
        reverse("scheduling:calendar")
        + f"?date={MONDAY:%Y-%m-%d}&view=week&location={personas.location_a.pk}"
    )
    page = client_for(personas.front_a).get(url).content.decode()
    assert 'data-view="week"' in page and 'data-utc-offset="-06:00"' in page
    assert 'data-time-zone="America/Chicago"' in page  # the grid works out each day's offset from it
    assert 'data-may-move="1"' in page and 'data-book-url="/schedule/book"' in page
    assert "event-calendar-5.10.1.min.js" in page and "scheduling/calendar.js" in page
    assert "Ortega" not in page
    read_only = client_for(personas.billing_a).get(url).content.decode()
    assert 'data-may-move=""' in read_only and 'data-book-url=""' in read_only


def test_the_grid_spans_an_hour_either_side_of_the_hours_or_the_whole_day_past_midnight(
    personas: Personas, client_for: Any
) -> None:
    from careline.locations.models import OpeningHours

    url = reverse("scheduling:calendar") + f"?location={personas.location_a.pk}"
    page = client_for(personas.front_a).get(url).content.decode()
    assert 'data-first-hour="07:00" data-last-hour="18:00"' in page  # open 08:00-17:00
    OpeningHours.objects.create(location=personas.location_a, weekday=5, opens="20:00", closes="02:00")
    page = client_for(personas.front_a).get(url).content.decode()
    assert 'data-first-hour="00:00" data-last-hour="24:00"' in page


# --- the feed ------------------------------------------------------------------------------------------


def test_the_feed_gives_visits_in_local_wall_clock_time_with_their_columns(
    personas: Personas, client_for: Any, schedule: Schedule
) -> None:
    visit = book(schedule, at_a(personas, MONDAY, 9), notify=False)
    body = _feed(client_for(personas.front_a), personas).json()
    (event,) = _visits(body)
    assert event["id"] == str(visit.pk)
    assert (event["start"], event["end"]) == ("2031-01-06T09:00", "2031-01-06T09:30")
    assert event["resourceIds"] == [personas.clinician_a.pk]
    assert "status-booked" in event["classNames"] and event["startEditable"] is True
    props = event["extendedProps"]
    assert (
        props["patient"] == "Pat Ortega" and props["type"] == "Checkup" and props["statusLabel"] == "Booked"
    )
    assert props["url"] == reverse("scheduling:appointment", args=[visit.pk])
    assert props["moveFormUrl"] == reverse("scheduling:move", args=[visit.pk])  # moving without a mouse
    assert props["clinician"] == str(personas.clinician_a)
    assert "location" not in props  # the calendar shows one location: not repeated on each visit
    assert body["resources"] == [{"id": personas.clinician_a.pk, "title": str(personas.clinician_a)}]
    assert not any("555" in str(value) for value in props.values())  # no phone numbers


def test_a_calendar_filtered_to_one_clinician_names_the_location_not_the_clinician(
    personas: Personas, client_for: Any, schedule: Schedule
) -> None:
    book(schedule, at_a(personas, MONDAY, 9), notify=False)
    body = _feed(
        client_for(personas.front_a), personas, location=None, clinician=personas.clinician_a.pk
    ).json()
    props = _visits(body)[0]["extendedProps"]
    assert props["location"] == personas.location_a.name and "clinician" not in props


def test_the_feed_shows_only_visits_the_person_may_see(
    personas: Personas, client_for: Any, schedule: Schedule
) -> None:
    book(schedule, at_a(personas, MONDAY, 9), notify=False)
    assert _feed(client_for(personas.front_b), personas).status_code == 403
    other = _feed(client_for(personas.front_b), personas, location=personas.location_b.pk).json()
    assert _visits(other) == []
    assert _feed(client_for(None), personas).status_code == 302


def test_moved_visits_show_once_and_cancelled_ones_only_when_asked(
    personas: Personas, client_for: Any, schedule: Schedule
) -> None:
    from careline.core.actor import Actor
    from careline.scheduling.services.appointments import appointment_cancel, appointment_move

    actor = Actor.staff(personas.front_a)
    first = book(schedule, at_a(personas, MONDAY, 9), notify=False)
    appointment_move(appointment=first, starts_at=at_a(personas, MONDAY, 10), actor=actor, source="staff")
    other = book(schedule, at_a(personas, MONDAY, 14), notify=False, patient=personas.quinn)
    appointment_cancel(appointment=other, actor=actor, source="staff", by_patient=True)
    client = client_for(personas.admin)
    assert [e["start"] for e in _visits(_feed(client, personas).json())] == ["2031-01-06T10:00"]
    with_cancelled = _visits(_feed(client, personas, cancelled="on").json())
    assert [e["start"] for e in with_cancelled] == ["2031-01-06T10:00", "2031-01-06T14:00"]
    assert with_cancelled[1]["startEditable"] is False


def test_read_only_people_and_past_visits_get_nothing_to_drag(
    personas: Personas, client_for: Any, schedule: Schedule, clock: Any
) -> None:
    book(schedule, at_a(personas, MONDAY, 9), notify=False)
    (event,) = _visits(_feed(client_for(personas.billing_a), personas).json())
    assert event["startEditable"] is False and "moveUrl" not in event["extendedProps"]
    assert "moveFormUrl" not in event["extendedProps"]
    clock.move_to(chicago(MONDAY, 9, 15))
    (event,) = _visits(_feed(client_for(personas.front_a), personas).json())
    assert event["startEditable"] is False and event["durationEditable"] is False


def test_only_visits_of_a_variable_length_type_may_be_resized(
    personas: Personas, client_for: Any, schedule: Schedule
) -> None:
    book(schedule, at_a(personas, MONDAY, 9), notify=False)
    client = client_for(personas.front_a)
    assert _visits(_feed(client, personas).json())[0]["durationEditable"] is False
    schedule.checkup.variable_length = True
    schedule.checkup.save()
    assert _visits(_feed(client, personas).json())[0]["durationEditable"] is True


def test_the_day_is_shaded_outside_each_clinicians_hours_and_time_off_is_shown(
    personas: Personas, client_for: Any, schedule: Schedule
) -> None:
    TimeOff.objects.create(
        clinician=personas.clinician_a,
        starts_at=at_a(personas, MONDAY, 15),
        ends_at=at_a(personas, MONDAY, 17),
    )
    body = _feed(client_for(personas.front_a), personas).json()
    assert _background(body, "cal-closed") == [
        ("2031-01-06T00:00", "2031-01-06T09:00"),
        ("2031-01-06T12:00", "2031-01-06T13:00"),
        ("2031-01-06T17:00", "2031-01-07T00:00"),
    ]
    assert _background(body, "cal-away") == [("2031-01-06T15:00", "2031-01-06T17:00")]
    away = next(e for e in body["events"] if "cal-away" in e["classNames"])
    assert away["resourceIds"] == [personas.clinician_a.pk] and away["title"] == "Away"


def test_a_week_by_location_is_shaded_outside_its_opening_hours(
    personas: Personas, client_for: Any, schedule: Schedule
) -> None:
    body = _feed(
        client_for(personas.front_a), personas, view="week", end=f"{MONDAY + timedelta(days=7):%Y-%m-%d}"
    ).json()
    closed = _background(body, "cal-closed")
    assert closed[:2] == [("2031-01-06T00:00", "2031-01-06T08:00"), ("2031-01-06T17:00", "2031-01-07T00:00")]
    assert ("2031-01-11T00:00", "2031-01-12T00:00") in closed  # Saturday: closed all day
    assert all("resourceIds" not in e for e in body["events"])


def test_a_week_or_month_of_a_location_lists_who_is_away_each_day(
    personas: Personas, client_for: Any, schedule: Schedule
) -> None:
    TimeOff.objects.create(
        clinician=personas.clinician_a,
        starts_at=at_a(personas, MONDAY + timedelta(days=1), 0),
        ends_at=at_a(personas, MONDAY + timedelta(days=2), 12),
    )
    client = client_for(personas.front_a)
    for view, days in (("week", 7), ("month", 35)):
        body = _feed(client, personas, view=view, end=f"{MONDAY + timedelta(days=days):%Y-%m-%d}").json()
        notes = [(e["start"], e["title"]) for e in body["events"] if "cal-away-note" in e["classNames"]]
        assert notes == [
            ("2031-01-07", "Casey Clinician away"),
            ("2031-01-08", "Casey Clinician away 00:00–12:00"),
        ], view
        assert not _background(body, "cal-away")


def test_the_feed_takes_a_constant_number_of_queries(
    personas: Personas, client_for: Any, schedule: Schedule, django_assert_num_queries: Any
) -> None:
    client = client_for(personas.front_a)
    book(schedule, at_a(personas, MONDAY, 9), notify=False)
    week = {"view": "week", "end": f"{MONDAY + timedelta(days=7):%Y-%m-%d}"}
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        assert _feed(client, personas, **week).status_code == 200
    # The next week (a range of its own, so it is audited afresh too) holds a dozen visits of a dozen patients.
    next_monday = MONDAY + timedelta(days=7)
    for n in range(12):
        patient = Patient.objects.create(
            mrn=f"MRN-GRID-{n}", legal_first_name=f"Grid{n}", legal_last_name="Patient",
            date_of_birth=date(1990, 1, 1), primary_location=personas.location_a,
        )  # fmt: skip
        day = next_monday + timedelta(days=n % 5)
        book(schedule, at_a(personas, day, 13 + n // 5), patient=patient, notify=False)
    with django_assert_num_queries(len(one.captured_queries)):
        response = _feed(
            client, personas, view="week", start=f"{next_monday:%Y-%m-%d}",
            end=f"{next_monday + timedelta(days=7):%Y-%m-%d}",
        )  # fmt: skip
    assert len(_visits(response.json())) == 12


def test_the_feed_reads_visits_as_values_joined_to_their_own_patient(
    personas: Personas, client_for: Any, schedule: Schedule
) -> None:
    """A week of a location holds hundreds of visits: no model instances per visit (a values query) and the
    patient rule as a join on each visit's patient, not a semi-join hashing every visible patient."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(personas.front_a)
    book(schedule, at_a(personas, MONDAY, 9), notify=False)
    with CaptureQueriesContext(connection) as captured:
        assert (
            _feed(client, personas, view="week", end=f"{MONDAY + timedelta(days=7):%Y-%m-%d}").status_code
            == 200
        )
    visits = [q["sql"] for q in captured.captured_queries if 'FROM "scheduling_appointment"' in q["sql"]]
    assert len(visits) == 1
    assert 'FROM "patients_patient" U' not in visits[0]  # no subquery over the patients
    assert '"scheduling_appointment"."external_id"' not in visits[0]  # only the fields the grid shows


def test_each_feed_request_is_audited_once_within_minutes(
    personas: Personas, client_for: Any, schedule: Schedule
) -> None:
    book(schedule, at_a(personas, MONDAY, 9), notify=False)
    client = client_for(personas.front_a)
    _feed(client, personas)
    _feed(client, personas)
    entries = AuditEntry.objects.filter(object_type="scheduling.calendar", actor=personas.front_a)
    assert entries.count() == 1
    assert f"location {personas.location_a.pk}" in entries.get().detail
    _feed(client, personas, view="week", end=f"{MONDAY + timedelta(days=7):%Y-%m-%d}")
    assert entries.count() == 2


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": ""}, "start: This field is required."),
        ({"start": "nonsense"}, "start: Enter a valid date."),
        ({"start": "0001-01-01"}, "start: Enter a date between"),
        ({"end": "9999-12-31"}, "end: Enter a date between"),
        ({"end": "2031-01-06"}, "end: The end is not after the start."),
        ({"end": "2031-03-01"}, "end: Ask for at most 42 days at once."),
        ({"view": "year"}, "view: Select a valid choice."),
        ({"location": "²"}, "location: choose one from the list."),
        ({"clinician": "9" * 30}, "clinician: choose one from the list."),
    ],
)
def test_bad_feed_requests_are_refused_with_a_message(
    personas: Personas, client_for: Any, params: dict[str, str], message: str
) -> None:
    response = _feed(client_for(personas.front_a), personas, **params)
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert not AuditEntry.objects.filter(object_type="scheduling.calendar").exists()


# --- dragging and resizing -----------------------------------------------------------------------------


def _move_url(visit: Appointment) -> str:
    return reverse("scheduling:calendar_move", args=[visit.pk])


def test_a_dragged_visit_moves_with_the_move_forms_effects(
    personas: Personas, client_for: Any, schedule: Schedule, django_capture_on_commit_callbacks: Any
) -> None:
    ReminderRule.objects.all().delete()
    ReminderRule.objects.create(name="Day before", minutes_before=24 * 60, template_en=default_template("en"))
    visit = book(schedule, at_a(personas, MONDAY, 9), notify=False)
    assert Reminder.objects.get(appointment=visit).due_at == at_a(personas, MONDAY, 9) - timedelta(days=1)
    waiting = patient_with_phone(personas, "Ann", "+13125550171", consent=True)
    WaitlistEntry.objects.create(patient=waiting, appointment_type=schedule.checkup)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(personas.front_a).post(
            _move_url(visit), {"date": "2031-01-06", "time": "10:30"}
        )
    assert response.status_code == 200, response.content
    new = Appointment.objects.get(rescheduled_from=visit)
    assert response.json() == {"id": new.pk, "message": "Moved to Mon 06 Jan at 10:30–11:00."}
    assert new.starts_at == at_a(personas, MONDAY, 10, 30)
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.RESCHEDULED
    assert Reminder.objects.get(appointment=visit).state == ReminderState.WITHDRAWN
    assert Reminder.objects.get(appointment=new).due_at == new.starts_at - timedelta(days=1)
    assert Message.objects.filter(idempotency_key=f"notify:moved:{new.pk}").exists()  # the patient's notice
    assert WaitlistOffer.objects.filter(entry__patient=waiting).exists()  # the freed 09:00 offered
    assert AuditEntry.objects.filter(
        object_type="scheduling.appointment", object_id=str(new.pk), actor=personas.front_a
    ).exists()


def test_a_drag_the_service_refuses_changes_nothing_and_says_why(
    personas: Personas, client_for: Any, schedule: Schedule
) -> None:
    visit = book(schedule, at_a(personas, MONDAY, 9), notify=False)
    book(schedule, at_a(personas, MONDAY, 11), notify=False, patient=personas.quinn)
    client = client_for(personas.front_a)
    cases = [
        ({"date": "2031-01-06", "time": "11:00"}, "already has a visit from 11:00 to 11:30"),
        ({"date": "2031-01-06", "time": "12:00"}, "does not work at Northside Clinic then"),
        ({"date": "2031-01-03", "time": "09:00"}, "That time has already passed."),
        (
            {"date": "2031-01-06", "time": "09:00", "duration_minutes": "60"},
            "Checkup visits have a fixed length.",
        ),
        ({"date": "2031-01-06", "time": "25:00"}, "time: Enter a valid time."),
        ({"date": "9999-12-31", "time": "09:00"}, "date: Enter a date between"),
        ({"date": "2031-01-06", "time": "10:00", "clinician": "x"}, "clinician: Enter a whole number."),
        ({"date": "2031-01-06", "time": "10:00", "clinician": personas.front_a.pk}, "choose a clinician"),
        ({"date": "2031-01-06", "time": "10:00", "duration_minutes": "9999"}, "duration_minutes:"),
    ]
    for body, reason in cases:
        response = client.post(_move_url(visit), body)
        assert response.status_code == 400, body
        assert reason in response.json()["error"], (body, response.json())
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED and not Appointment.objects.filter(rescheduled_from=visit)


def test_a_resized_visit_of_a_variable_length_type_gets_its_new_length(
    personas: Personas, client_for: Any, schedule: Schedule
) -> None:
    schedule.checkup.variable_length = True
    schedule.checkup.save()
    visit = book(schedule, at_a(personas, MONDAY, 9), notify=False)
    response = client_for(personas.front_a).post(
        _move_url(visit), {"date": "2031-01-06", "time": "09:00", "duration_minutes": "45"}
    )
    assert response.status_code == 200
    new = Appointment.objects.get(rescheduled_from=visit)
    assert new.ends_at - new.starts_at == timedelta(minutes=45)


def test_only_people_who_may_move_visits_may_drag_them(
    personas: Personas, client_for: Any, schedule: Schedule
) -> None:
    visit = book(schedule, at_a(personas, MONDAY, 9), notify=False)
    body = {"date": "2031-01-06", "time": "10:00"}
    assert client_for(personas.billing_a).post(_move_url(visit), body).status_code == 403
    assert client_for(personas.front_b).post(_move_url(visit), body).status_code == 403
    assert client_for(None).post(_move_url(visit), body).status_code == 302
    assert client_for(personas.front_a).get(_move_url(visit)).status_code == 405
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED
    assert client_for(personas.clinician_a).post(_move_url(visit), body).status_code == 200


def test_a_visit_dropped_in_a_skipped_hour_is_refused(
    personas: Personas, client_for: Any, schedule: Schedule
) -> None:
    visit = book(schedule, at_a(personas, MONDAY, 9), notify=False)
    response = client_for(personas.front_a).post(_move_url(visit), {"date": "2031-03-09", "time": "02:30"})
    assert response.status_code == 400 and "does not exist" in response.json()["error"]


def test_the_calendar_js_sends_the_csrf_header_and_uses_no_inline_script() -> None:
    from pathlib import Path

    js = (Path(__file__).parents[1] / "static" / "scheduling" / "calendar.js").read_text()
    assert '"X-CSRFToken": csrfToken()' in js and "hx-headers" in js
    assert "innerHTML" not in js and "html:" not in js  # names are inserted as text, never as markup
