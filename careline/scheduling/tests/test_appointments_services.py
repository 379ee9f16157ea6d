"""Booking, moving, cancelling, status changes and series: the rules of services/appointments.py."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError

from careline.core.actor import Actor
from careline.core.models import AuditEntry
from careline.scheduling.models import Appointment, AppointmentStatus, AppointmentStatusChange, TimeOff
from careline.scheduling.services import appointments as services
from careline.scheduling.services import reminders, waitlist
from careline.scheduling.tests.appointment_support import MONDAY, at_a, book, make_schedule

pytestmark = pytest.mark.django_db

NOW = "2030-12-01T12:00:00Z"


@pytest.fixture
def schedule(personas: Any) -> Any:
    return make_schedule(personas)


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def hooks(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """Record the calls made to the reminders and waitlist hooks."""
    calls: list[tuple[str, Any]] = []
    # They are reached through the appointment events (SchedulingConfig.ready subscribes them).
    monkeypatch.setattr(reminders, "reminders_plan_for_appointment", lambda a: calls.append(("plan", a.pk)))
    monkeypatch.setattr(
        reminders,
        "reminders_withdraw_for_appointment",
        lambda a, *, reason: calls.append(("withdraw", a.pk)),
    )
    monkeypatch.setattr(reminders, "appointment_notify", lambda a, *, event: calls.append((event, a.pk)))
    monkeypatch.setattr(
        waitlist, "waitlist_offer_freed_slot", lambda **kw: calls.append(("offer", kw["starts_at"]))
    )
    return calls


def test_booking_converts_local_time_and_records_history_and_audit(
    schedule: Any, hooks: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    p = schedule.personas
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(schedule, at_a(p, MONDAY, 9))
    assert appointment.starts_at.hour == 15  # 09:00 in Chicago in January is 15:00 UTC
    assert appointment.ends_at - appointment.starts_at == timedelta(minutes=30)
    change = AppointmentStatusChange.objects.get(appointment=appointment)
    assert (change.from_status, change.to_status, change.actor) == ("", "booked", p.front_a)
    assert AuditEntry.objects.filter(
        patient_id=p.pat.pk, action="create", object_id=str(appointment.pk)
    ).exists()
    assert hooks == [("plan", appointment.pk), ("booked", appointment.pk)]


def test_double_booking_a_clinician_is_refused(schedule: Any) -> None:
    p = schedule.personas
    book(schedule, at_a(p, MONDAY, 9))
    with pytest.raises(ValidationError, match="already has a visit from 09:00 to 09:30"):
        book(schedule, at_a(p, MONDAY, 9, 15), patient=p.quinn)
    assert Appointment.objects.count() == 1


def test_back_to_back_visits_are_not_a_double_booking(schedule: Any) -> None:
    p = schedule.personas
    book(schedule, at_a(p, MONDAY, 9))
    book(schedule, at_a(p, MONDAY, 9, 30))
    assert Appointment.objects.count() == 2


def test_cancelled_visit_frees_the_time(schedule: Any) -> None:
    p = schedule.personas
    first = book(schedule, at_a(p, MONDAY, 9))
    services.appointment_cancel(
        appointment=first, actor=Actor.staff(p.front_a), source="staff", by_patient=False
    )
    book(schedule, at_a(p, MONDAY, 9))
    assert Appointment.objects.filter(status="booked").count() == 1


@pytest.mark.parametrize(
    ("hour", "minute", "message"),
    [(8, 30, "does not work"), (11, 45, "does not work"), (12, 0, "does not work"), (17, 0, "does not work")],
)
def test_booking_outside_working_hours_is_refused(
    schedule: Any, hour: int, minute: int, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        book(schedule, at_a(schedule.personas, MONDAY, hour, minute))
    assert not Appointment.objects.exists()


def test_outside_hours_allowed_when_asked(schedule: Any) -> None:
    appointment = book(schedule, at_a(schedule.personas, MONDAY, 7), allow_outside_hours=True)
    assert appointment.pk


def test_time_off_refuses_booking(schedule: Any) -> None:
    p = schedule.personas
    TimeOff.objects.create(clinician=p.clinician_a, starts_at=at_a(p, MONDAY, 0), ends_at=at_a(p, MONDAY, 23))
    with pytest.raises(ValidationError, match="away"):
        book(schedule, at_a(p, MONDAY, 10))


def test_past_and_unknown_pairings_are_refused(schedule: Any) -> None:
    p = schedule.personas
    with pytest.raises(ValidationError, match="already passed"):
        book(schedule, at_a(p, MONDAY - timedelta(weeks=6), 9))
    with pytest.raises(ValidationError, match="not offered at"):
        book(schedule, at_a(p, MONDAY, 9), location=p.location_b)
    with pytest.raises(ValidationError, match="does not take"):
        book(schedule, at_a(p, MONDAY, 9), clinician=p.front_a)


def test_move_makes_old_rescheduled_and_new_linked(
    schedule: Any, hooks: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    p = schedule.personas
    old = book(schedule, at_a(p, MONDAY, 9), notify=False)
    hooks.clear()
    with django_capture_on_commit_callbacks(execute=True):
        new = services.appointment_move(
            appointment=old, starts_at=at_a(p, MONDAY, 9, 15), actor=Actor.staff(p.front_a), source="staff"
        )
    old.refresh_from_db()
    assert old.status == AppointmentStatus.RESCHEDULED
    assert new.rescheduled_from == old and new.status == AppointmentStatus.BOOKED
    # Moving into an overlap with its own old time is fine: the old row no longer holds it.
    assert ("withdraw", old.pk) in hooks and ("plan", new.pk) in hooks and ("moved", new.pk) in hooks
    assert ("offer", old.starts_at) in hooks


def test_failed_move_changes_nothing(schedule: Any) -> None:
    p = schedule.personas
    old = book(schedule, at_a(p, MONDAY, 9))
    book(schedule, at_a(p, MONDAY, 10), patient=p.quinn)
    with pytest.raises(ValidationError):
        services.appointment_move(
            appointment=old, starts_at=at_a(p, MONDAY, 10), actor=Actor.staff(p.front_a), source="staff"
        )
    old.refresh_from_db()
    assert old.status == AppointmentStatus.BOOKED
    assert Appointment.objects.count() == 2


def test_patient_text_changes_do_not_send_notices(
    schedule: Any, hooks: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    p = schedule.personas
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(schedule, at_a(p, MONDAY, 9), source="text", actor=Actor.patient(p.pat.pk))
        services.appointment_cancel(
            appointment=appointment, actor=Actor.patient(p.pat.pk), source="text", by_patient=True
        )
    assert [c[0] for c in hooks] == ["plan", "withdraw", "offer"]
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED_PATIENT


def test_rollback_sends_nothing(
    schedule: Any, hooks: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    from django.db import transaction

    p = schedule.personas

    def book_then_fail() -> None:
        with transaction.atomic():
            book(schedule, at_a(p, MONDAY, 9))
            raise RuntimeError

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        book_then_fail()
    assert callbacks == [] and not Appointment.objects.exists()


def test_status_changes_follow_the_rules(schedule: Any) -> None:
    p = schedule.personas
    appointment = book(schedule, at_a(p, MONDAY, 9))
    with pytest.raises(ValidationError, match="not started"):
        services.appointment_set_status(
            appointment=appointment, status="no_show", actor=Actor.staff(p.front_a), source="staff"
        )
    with pytest.raises(ValidationError, match="Check-in opens at 08:00"):
        services.appointment_set_status(
            appointment=appointment, status="checked_in", actor=Actor.staff(p.front_a), source="staff"
        )
    with time_machine.travel(at_a(p, MONDAY, 8, 50), tick=False):
        services.appointment_set_status(
            appointment=appointment, status="checked_in", actor=Actor.staff(p.front_a), source="staff"
        )
        with pytest.raises(ValidationError, match="cannot become"):
            services.appointment_set_status(
                appointment=appointment, status="confirmed", actor=Actor.staff(p.front_a), source="staff"
            )
    with time_machine.travel(at_a(p, MONDAY, 9, 40), tick=False):
        services.appointment_set_status(
            appointment=appointment, status="completed", actor=Actor.staff(p.clinician_a), source="staff"
        )
    history = list(appointment.status_changes.values_list("from_status", "to_status"))
    assert history == [("", "booked"), ("booked", "checked_in"), ("checked_in", "completed")]
    with pytest.raises(ValidationError):
        services.appointment_cancel(
            appointment=appointment, actor=Actor.staff(p.front_a), source="staff", by_patient=False
        )


def test_no_show_after_start(schedule: Any) -> None:
    p = schedule.personas
    appointment = book(schedule, at_a(p, MONDAY, 9))
    with time_machine.travel(at_a(p, MONDAY, 9, 20), tick=False):
        services.appointment_set_status(
            appointment=appointment, status="no_show", actor=Actor.staff(p.front_a), source="staff"
        )
    appointment.refresh_from_db()
    assert appointment.status == "no_show" and not appointment.is_active


def test_series_with_a_conflict_books_nothing_unless_confirmed(schedule: Any) -> None:
    p = schedule.personas
    book(schedule, at_a(p, MONDAY + timedelta(weeks=2), 9), patient=p.quinn)
    fields: dict[str, Any] = {
        "patient": p.pat, "clinician": p.clinician_a, "location": p.location_a,
        "appointment_type": schedule.checkup, "first_day": MONDAY, "clock": time(9), "count": 4,
        "interval_weeks": 1, "actor": Actor.staff(p.front_a), "source": "staff",
    }  # fmt: skip
    result = services.appointment_series_book(**fields)
    assert result.series is None and [c.day for c in result.conflicts] == [MONDAY + timedelta(weeks=2)]
    assert Appointment.objects.count() == 1
    result = services.appointment_series_book(**fields, book_free_dates_only=True)
    assert result.series is not None and len(result.appointments) == 3
    assert {a.series_id for a in result.appointments} == {result.series.pk}


def test_series_keeps_local_time_across_daylight_saving(schedule: Any) -> None:
    p = schedule.personas
    from datetime import date

    # 2031-03-09 is the spring change in America/Chicago (Sunday); Mondays either side.
    result = services.appointment_series_book(
        patient=p.pat, clinician=p.clinician_a, location=p.location_a, appointment_type=schedule.checkup,
        first_day=date(2031, 3, 3), clock=time(9), count=2, interval_weeks=1, actor=Actor.staff(p.front_a), source="staff",
    )  # fmt: skip
    assert [a.local_start.hour for a in result.appointments] == [9, 9]
    assert [a.starts_at.hour for a in result.appointments] == [15, 14]


def test_the_audit_trail_tells_a_patient_change_from_a_staff_one(schedule: Any) -> None:
    p = schedule.personas
    appointment = book(schedule, at_a(p, MONDAY, 9))
    services.appointment_cancel(
        appointment=appointment, actor=Actor.patient(p.pat.pk), source="text", by_patient=True
    )
    entries = AuditEntry.objects.filter(object_type="scheduling.appointment", object_id=str(appointment.pk))
    booked, cancelled = entries.order_by("seq")
    assert (booked.actor_kind, booked.actor_id, booked.channel) == ("staff", p.front_a.pk, "system")
    assert (cancelled.actor_kind, cancelled.actor_id, cancelled.on_behalf_of_id) == (
        "patient",
        None,
        p.pat.pk,
    )
    assert cancelled.actor_label == "Patient by text"
    change = AppointmentStatusChange.objects.filter(appointment=appointment).latest("id")
    assert (change.actor_id, change.source) == (None, "text")
