"""The reminders report: access per persona, the figures, the weekly chart and its table, CSV, bad input, queries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from careline.core.models import AuditEntry
from careline.messaging.models import Conversation, Message, MessageState
from careline.messaging.services.channels import simulator_channel
from careline.scheduling.models import (
    Appointment,
    AppointmentStatus,
    AppointmentStatusChange,
    AppointmentType,
    ChangeSource,
    Reminder,
    ReminderState,
)
from careline.testing.personas import Personas

URL = reverse("scheduling:reminders_report")
CSV_URL = reverse("scheduling:reminders_report_csv")
TODAY = date(2031, 3, 31)  # a Monday
RANGE = {"start": "2031-03-03", "end": "2031-03-30"}


@pytest.fixture(autouse=True)
def _clock() -> Any:
    with time_machine.travel(datetime(2031, 3, 31, 15, 0), tick=False):
        yield


def _visit(
    p: Personas, day: date, status: str, *, location: Any = None, reminded: str | None = None
) -> Appointment:
    kind, _ = AppointmentType.objects.get_or_create(name="Checkup")
    location = location or p.location_a
    starts = datetime.combine(day, time(10), tzinfo=location.zone)
    appointment = Appointment.objects.create(
        patient=p.pat if location == p.location_a else p.quinn, clinician=p.clinician_a, location=location,
        appointment_type=kind, starts_at=starts, ends_at=starts + timedelta(minutes=30), status=status,
    )  # fmt: skip
    if reminded is not None:
        channel = simulator_channel()
        conversation, _ = Conversation.objects.get_or_create(channel=channel, contact="+13125550111")
        message = Message.objects.create(
            conversation=conversation, channel=channel, direction=Message.Direction.OUTBOUND,
            to_address="+13125550111", body="Reminder", state=reminded,
        )  # fmt: skip
        Reminder.objects.create(
            appointment=appointment, channel="sms", appointment_starts_at=starts, due_at=starts - timedelta(days=2),
            state=ReminderState.SENT, message=message,
        )  # fmt: skip
    return appointment


def _by_text(appointment: Appointment, to_status: str) -> None:
    AppointmentStatusChange.objects.create(
        appointment=appointment, from_status="booked", to_status=to_status, source=ChangeSource.TEXT
    )


def _figures(client: Client, **params: str) -> dict[str, str]:
    response = client.get(URL, {**RANGE, **params})
    assert response.status_code == 200
    return dict(response.context["report"].rows())


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("admin", 200),
        ("front_a", 200),
        ("front_b", 200),
        ("clinician_a", 403),
        ("billing_a", 403),
        (None, 302),
    ],
)
def test_report_access_per_persona(
    personas: Personas, client_for: Callable[[Any], Client], who: str | None, expected: int
) -> None:
    user = getattr(personas, who) if who else None
    for url in (URL, CSV_URL):
        response = client_for(user).get(url, RANGE)
        assert response.status_code == expected
        if expected == 302:
            assert "/accounts/" in response["Location"]


def test_reports_link_in_the_navigation_only_for_those_who_may_see_it(
    personas: Personas, client_for: Callable[[Any], Client]
) -> None:
    assert URL in client_for(personas.front_a).get(URL).content.decode()
    assert URL not in client_for(personas.clinician_a).get(reverse("patients:list")).content.decode()


def test_report_figures(personas: Personas, client_for: Callable[[Any], Client]) -> None:
    p = personas
    week1, week2 = date(2031, 3, 4), date(2031, 3, 11)
    _visit(p, week1, AppointmentStatus.COMPLETED, reminded=MessageState.DELIVERED)
    _visit(p, week1, AppointmentStatus.NO_SHOW, reminded=MessageState.DELIVERED)
    _visit(p, week1, AppointmentStatus.NO_SHOW)
    _visit(p, week2, AppointmentStatus.NO_SHOW, reminded=MessageState.UNDELIVERED)  # a failed reminder
    confirmed = _visit(p, week2, AppointmentStatus.COMPLETED, reminded=MessageState.DELIVERED)
    _by_text(confirmed, AppointmentStatus.CONFIRMED)
    _by_text(_visit(p, week2, AppointmentStatus.CANCELLED_PATIENT, reminded=MessageState.SENT),
             AppointmentStatus.CANCELLED_PATIENT)  # fmt: skip
    _by_text(
        _visit(p, week2, AppointmentStatus.RESCHEDULED, reminded=MessageState.SENT),
        AppointmentStatus.RESCHEDULED,
    )
    _visit(p, date(2031, 2, 3), AppointmentStatus.NO_SHOW)  # before the range
    _visit(p, week1, AppointmentStatus.NO_SHOW, location=p.location_b)  # another location
    figures = _figures(client_for(p.front_a))
    assert figures == {
        "Appointments": "6",
        "Reminded": "4",
        "Confirmed": "1",
        "Cancelled by reply": "1",
        "Rescheduled by reply": "1",
        "No-shows": "3",
        # Reminded with an outcome: completed, no-show, completed -> 1 of 3; not reminded: 2 no-shows of 2.
        "No-show rate, reminded visits": "33.3%",
        "No-show rate, visits not reminded": "100.0%",
        "Reminder delivery failures": "1",
    }
    admin_all = _figures(client_for(p.admin))
    assert admin_all["No-shows"] == "4"
    assert _figures(client_for(p.admin), location=str(p.location_b.pk))["No-shows"] == "1"
    response = client_for(p.front_a).get(URL, RANGE)
    weeks = response.context["report"].weeks
    assert [(w.week, w.outcomes, w.no_shows) for w in weeks[:2]] == [
        (date(2031, 3, 3), 3, 2),
        (week2 - timedelta(days=1), 2, 1),
    ]
    html = response.content.decode()
    assert 'role="img"' in html and html.count("<rect") == len(weeks) == 4
    assert (
        "Weekly no-show rate (the chart&#x27;s data)" in html
        or "Weekly no-show rate (the chart's data)" in html
    )


def test_front_desk_cannot_report_on_another_location(
    personas: Personas, client_for: Callable[[Any], Client]
) -> None:
    response = client_for(personas.front_b).get(URL, {**RANGE, "location": str(personas.location_a.pk)})
    assert response.status_code == 400
    assert response.context["report"] is None
    _visit(personas, date(2031, 3, 4), AppointmentStatus.NO_SHOW)
    assert _figures(client_for(personas.front_b))["No-shows"] == "0"


@pytest.mark.parametrize(
    "params",
    [{"start": "2031-03-30", "end": "2031-03-01"}, {"start": "yesterday", "end": "2031-03-01"},
     {"start": "2020-01-01", "end": "2031-03-01"}, {"start": "2031-03-01", "end": "2031-03-30", "location": "x"}],
)  # fmt: skip
def test_bad_filters_get_a_clear_message(
    personas: Personas, client_for: Callable[[Any], Client], params: dict[str, str]
) -> None:
    client = client_for(personas.front_a)
    response = client.get(URL, params)
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode() or 'class="errors"' in response.content.decode()
    assert client.get(CSV_URL, params).status_code == 400


def test_csv_export_is_audited(personas: Personas, client_for: Callable[[Any], Client]) -> None:
    _visit(personas, date(2031, 3, 4), AppointmentStatus.NO_SHOW)
    response = client_for(personas.front_a).get(CSV_URL, RANGE)
    assert response.status_code == 200
    text = response.content.decode()
    assert "No-shows,1" in text and "2031-03-03,1,1,100.0%" in text
    assert AuditEntry.objects.filter(
        action="export", object_type="report.reminders", actor=personas.front_a
    ).exists()


def test_report_queries_do_not_grow_with_the_data(
    personas: Personas, client_for: Callable[[Any], Client], django_assert_max_num_queries: Any
) -> None:
    client = client_for(personas.admin)
    client.get(URL, RANGE)
    for day in range(3, 28):
        _visit(personas, date(2031, 3, day), AppointmentStatus.NO_SHOW, reminded=MessageState.DELIVERED)
    # 12, the navigation's Inbox, Visit requests and Care alerts badges, and the sections apps above register
    # (the portal's adoption and the post-visit surveys: one each)
    with django_assert_max_num_queries(17):
        assert client.get(URL, RANGE).status_code == 200
