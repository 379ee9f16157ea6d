"""free_slots: working hours in the location's zone, split days, time off, busy times, grid, DST, past."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
import time_machine

from careline.scheduling.models import TimeOff, WorkingHours
from careline.scheduling.queries.appointments import free_slots
from careline.scheduling.tests.appointment_support import MONDAY, at_a, book, make_schedule

pytestmark = pytest.mark.django_db


@pytest.fixture
def schedule(personas: Any) -> Any:
    with time_machine.travel("2030-12-01T12:00:00Z", tick=False):
        yield make_schedule(personas)


def _local(slots: list[Any]) -> list[str]:
    return [f"{s.local_start:%a %H:%M}" for s in slots]


def test_split_day_slots_on_the_grid(schedule: Any) -> None:
    p = schedule.personas
    with time_machine.travel("2030-12-01T12:00:00Z", tick=False):
        slots = free_slots(
            appointment_type=schedule.checkup, start=at_a(p, MONDAY, 0), end=at_a(p, MONDAY, 23), limit=100
        )
    times = _local(slots)
    assert times[:6] == ["Mon 09:00", "Mon 09:30", "Mon 10:00", "Mon 10:30", "Mon 11:00", "Mon 11:30"]
    assert times[6] == "Mon 13:00" and times[-1] == "Mon 16:30" and len(times) == 14
    assert all(s.clinician == p.clinician_a and s.location == p.location_a for s in slots)


def test_busy_time_and_time_off_are_skipped_and_slots_realign(schedule: Any) -> None:
    p = schedule.personas
    with time_machine.travel("2030-12-01T12:00:00Z", tick=False):
        book(schedule, at_a(p, MONDAY, 9, 15))
        TimeOff.objects.create(
            clinician=p.clinician_a, starts_at=at_a(p, MONDAY, 13), ends_at=at_a(p, MONDAY, 17)
        )
        slots = free_slots(
            appointment_type=schedule.checkup, start=at_a(p, MONDAY, 0), end=at_a(p, MONDAY, 23), limit=100
        )
    assert _local(slots) == ["Mon 09:45", "Mon 10:15", "Mon 10:45", "Mon 11:15"]


def test_duration_rounds_up_to_the_quarter_hour(schedule: Any) -> None:
    p = schedule.personas
    schedule.checkup.duration_minutes = 40
    schedule.checkup.save()
    with time_machine.travel("2030-12-01T12:00:00Z", tick=False):
        slots = free_slots(
            appointment_type=schedule.checkup, start=at_a(p, MONDAY, 0), end=at_a(p, MONDAY, 12)
        )
    assert _local(slots) == ["Mon 09:00", "Mon 09:45", "Mon 10:30", "Mon 11:15"]


def test_never_in_the_past(schedule: Any) -> None:
    p = schedule.personas
    with time_machine.travel(at_a(p, MONDAY, 10, 5), tick=False):
        slots = free_slots(
            appointment_type=schedule.checkup, start=at_a(p, MONDAY, 0), end=at_a(p, MONDAY, 12)
        )
    assert _local(slots) == ["Mon 10:15", "Mon 10:45", "Mon 11:15"]


def test_only_clinicians_who_take_the_type_at_that_location(schedule: Any) -> None:
    p = schedule.personas
    # Front desk A has hours but does not take the type; clinician A has hours at B, which does not offer it.
    WorkingHours.objects.create(
        clinician=p.front_a, location=p.location_a, weekday=0, starts=time(9), ends=time(10)
    )
    WorkingHours.objects.create(
        clinician=p.clinician_a, location=p.location_b, weekday=0, starts=time(6), ends=time(7)
    )
    with time_machine.travel("2030-12-01T12:00:00Z", tick=False):
        slots = free_slots(
            appointment_type=schedule.checkup, start=at_a(p, MONDAY, 0), end=at_a(p, MONDAY, 23), limit=100
        )
        at_b = free_slots(
            appointment_type=schedule.checkup,
            start=at_a(p, MONDAY, 0),
            end=at_a(p, MONDAY, 23),
            location=p.location_b,
        )
    assert {(s.clinician, s.location) for s in slots} == {(p.clinician_a, p.location_a)}
    assert at_b == []


def test_week_spanning_spring_change_keeps_local_hours(schedule: Any) -> None:
    p = schedule.personas
    # Sunday 2031-03-09 02:00 the clocks in Chicago go forward: Friday is UTC-6, Monday UTC-5.
    friday, monday = date(2031, 3, 7), date(2031, 3, 10)
    with time_machine.travel("2031-03-01T12:00:00Z", tick=False):
        slots = free_slots(
            appointment_type=schedule.checkup, start=at_a(p, friday, 0), end=at_a(p, monday, 23), limit=100
        )
    fridays = [s for s in slots if s.local_start.date() == friday]
    mondays = [s for s in slots if s.local_start.date() == monday]
    assert fridays[0].local_start.time() == time(9) and fridays[0].starts_at.hour == 15
    assert mondays[0].local_start.time() == time(9) and mondays[0].starts_at.hour == 14
    assert len(fridays) == len(mondays) == 14
    assert not [s for s in slots if s.local_start.weekday() in (5, 6)]


def test_constant_queries_for_a_long_range(schedule: Any, django_assert_max_num_queries: Any) -> None:
    p = schedule.personas
    with time_machine.travel("2030-12-01T12:00:00Z", tick=False), django_assert_max_num_queries(6):
        free_slots(appointment_type=schedule.checkup, start=at_a(p, MONDAY, 0),
                   end=at_a(p, MONDAY, 0) + timedelta(days=30), limit=500)  # fmt: skip


def test_naive_or_inverted_ranges_give_nothing(schedule: Any) -> None:
    p = schedule.personas
    with time_machine.travel("2030-12-01T12:00:00Z", tick=False):
        assert (
            free_slots(appointment_type=schedule.checkup, start=at_a(p, MONDAY, 12), end=at_a(p, MONDAY, 9))
            == []
        )
    assert isinstance(at_a(p, MONDAY, 9), datetime)
