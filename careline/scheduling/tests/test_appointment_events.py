"""Appointment changes are published as events; reminders and waitlist react without appointments.py knowing."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction

from careline.core.actor import Actor
from careline.core.events import Event, Phase, subscribe, unsubscribe
from careline.scheduling.events import (
    APPOINTMENT_EVENTS,
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentMoved,
    AppointmentStatusChanged,
)
from careline.scheduling.models import Appointment, AppointmentStatus, Reminder, ReminderState
from careline.scheduling.services import appointments as services
from careline.scheduling.tests.appointment_support import MONDAY, at_a, book, make_schedule
from careline.scheduling.tests.reminders_support import minutes_rule
from careline.testing.import_cycles import careline_import_graph

pytestmark = pytest.mark.django_db


class Refused(Exception):
    pass


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel("2030-12-01T12:00:00Z", tick=False):
        yield


@pytest.fixture
def schedule(personas: Any) -> Any:
    return make_schedule(personas)


@pytest.fixture
def published() -> Iterator[list[Event]]:
    """Every appointment event published during the test, as the after-commit listeners see them."""
    seen: list[Event] = []
    for event_type in APPOINTMENT_EVENTS:
        subscribe(event_type, seen.append, phase=Phase.AFTER_COMMIT)
    yield seen
    for event_type in APPOINTMENT_EVENTS:
        unsubscribe(event_type, seen.append, phase=Phase.AFTER_COMMIT)


def test_book_move_cancel_and_status_changes_are_published_with_ids_and_facts_only(
    schedule: Any, published: list[Event], django_capture_on_commit_callbacks: Any
) -> None:
    p = schedule.personas
    with django_capture_on_commit_callbacks(execute=True):
        first = book(schedule, at_a(p, MONDAY, 9))
        moved = services.appointment_move(
            appointment=first, starts_at=at_a(p, MONDAY, 10), actor=Actor.staff(p.front_a), source="staff"
        )
        services.appointment_set_status(
            appointment=moved,
            status=AppointmentStatus.CONFIRMED,
            actor=Actor.patient(moved.patient_id),
            source="text",
        )
        services.appointment_cancel(
            appointment=moved, actor=Actor.patient(moved.patient_id), source="text", by_patient=True
        )
    assert published == [
        AppointmentBooked(appointment_id=first.pk, patient_id=p.pat.pk, status="booked", source="staff",
                          notify=True),
        AppointmentMoved(appointment_id=moved.pk, previous_appointment_id=first.pk, patient_id=p.pat.pk,
                         source="staff", notify=True),
        AppointmentStatusChanged(appointment_id=moved.pk, patient_id=p.pat.pk, from_status="booked",
                                 to_status="confirmed", source="text"),
        AppointmentCancelled(appointment_id=moved.pk, patient_id=p.pat.pk, source="text", by_patient=True,
                             notify=False),
    ]  # fmt: skip


def test_clinic_cancellation_and_quiet_booking_carry_who_is_told(
    schedule: Any, published: list[Event], django_capture_on_commit_callbacks: Any
) -> None:
    p = schedule.personas
    with django_capture_on_commit_callbacks(execute=True):
        visit = book(schedule, at_a(p, MONDAY, 9), notify=False)
        services.appointment_cancel(
            appointment=visit, actor=Actor.staff(p.front_a), source="staff", by_patient=False
        )
    assert [getattr(e, "notify", None) for e in published] == [False, True]


def test_an_imported_status_change_is_published(
    schedule: Any, published: list[Event], tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    header = "external_id,mrn,clinician_email,location,appointment_type,date,time,status\n"
    row = "PM-2,MRN-PAT-1,nurse.a@example.test,Northside Clinic,Checkup,2031-01-06,09:00,{}\n"
    path = tmp_path / "visits.csv"
    with django_capture_on_commit_callbacks(execute=True):
        path.write_text(header + row.format("booked"), encoding="utf-8")
        call_command("import_appointments", str(path))
        path.write_text(header + row.format("cancelled"), encoding="utf-8")
        call_command("import_appointments", str(path))
    visit = Appointment.objects.get(external_id="PM-2")
    assert isinstance(published[0], AppointmentBooked) and published[0].notify is False
    assert published[1] == AppointmentStatusChanged(
        appointment_id=visit.pk, patient_id=visit.patient_id, from_status="booked",
        to_status="cancelled_clinic", source="import",
    )  # fmt: skip


def test_an_in_transaction_listener_failing_undoes_the_booking_and_its_reminders(schedule: Any) -> None:
    p = schedule.personas
    minutes_rule(120)

    def refuse(event: AppointmentBooked) -> None:
        raise Refused

    subscribe(AppointmentBooked, refuse, phase=Phase.IN_TRANSACTION)
    try:
        with pytest.raises(Refused):
            book(schedule, at_a(p, MONDAY, 9))
    finally:
        unsubscribe(AppointmentBooked, refuse, phase=Phase.IN_TRANSACTION)
    assert not Appointment.objects.exists() and not Reminder.objects.exists()


def test_reminders_are_planned_inside_the_booking_transaction(schedule: Any) -> None:
    p = schedule.personas
    minutes_rule(120)
    with transaction.atomic():
        visit = book(schedule, at_a(p, MONDAY, 9))
        # Before any commit: the reminder row is already there, in the same transaction.
        assert Reminder.objects.filter(appointment=visit, state=ReminderState.PENDING).exists()


def test_an_after_commit_listener_failing_keeps_the_change_and_is_logged(
    schedule: Any, django_capture_on_commit_callbacks: Any, caplog: pytest.LogCaptureFixture
) -> None:
    p = schedule.personas

    def broken_feed(event: AppointmentBooked) -> None:
        raise Refused

    subscribe(AppointmentBooked, broken_feed, phase=Phase.AFTER_COMMIT)
    try:
        with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
            visit = book(schedule, at_a(p, MONDAY, 9))
    finally:
        unsubscribe(AppointmentBooked, broken_feed, phase=Phase.AFTER_COMMIT)
    assert Appointment.objects.filter(pk=visit.pk, status=AppointmentStatus.BOOKED).exists()
    assert "AppointmentBooked receiver" in caplog.text and "broken_feed" in caplog.text


def test_appointment_services_do_not_import_their_listeners() -> None:
    imported = careline_import_graph()["careline.scheduling.services.appointments"]
    assert not imported & {
        "careline.scheduling.services.reminders",
        "careline.scheduling.services.waitlist",
        "careline.scheduling.services.visit_texts",
    }
