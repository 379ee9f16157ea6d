"""Which local days a location is open, with split shifts and hours past midnight."""

from __future__ import annotations

from datetime import date, time

import pytest

from careline.locations.models import Location, OpeningHours, Weekday
from careline.locations.queries import location_first_open_day, open_minutes_on

pytestmark = pytest.mark.django_db
SATURDAY = date(2031, 1, 4)
SUNDAY, MONDAY = date(2031, 1, 5), date(2031, 1, 6)


def _clinic(*periods: tuple[int, str, str]) -> Location:
    clinic = Location.objects.create(
        name="Night clinic", address_line1="1 Main St", city="Chicago", phone="+13125550100",
        time_zone="America/Chicago",
    )  # fmt: skip
    for weekday, opens, closes in periods:
        OpeningHours.objects.create(
            location=clinic,
            weekday=weekday,
            opens=time.fromisoformat(opens),
            closes=time.fromisoformat(closes),
        )
    return clinic


def test_a_split_shift_gives_two_spans_of_the_day() -> None:
    clinic = _clinic((Weekday.MONDAY, "08:00", "12:00"), (Weekday.MONDAY, "14:00", "18:30"))
    assert open_minutes_on(clinic.opening_hours.all(), MONDAY) == [(480, 720), (840, 1110)]


def test_hours_past_midnight_open_the_evening_and_the_next_early_morning() -> None:
    clinic = _clinic((Weekday.SATURDAY, "20:00", "02:00"))
    periods = list(clinic.opening_hours.all())
    assert open_minutes_on(periods, SATURDAY) == [(1200, 1440)]
    assert open_minutes_on(periods, SUNDAY) == [(0, 120)]
    assert open_minutes_on(periods, MONDAY) == []


def test_the_calendar_opens_on_today_when_the_location_opens_today() -> None:
    clinic = _clinic((Weekday.MONDAY, "08:00", "12:00"))
    assert location_first_open_day(clinic, MONDAY) == MONDAY


def test_the_calendar_opens_on_the_next_working_day_when_closed_today() -> None:
    clinic = _clinic((Weekday.MONDAY, "08:00", "12:00"), (Weekday.MONDAY, "13:00", "17:00"))
    assert location_first_open_day(clinic, SATURDAY) == MONDAY


def test_a_night_shift_from_yesterday_makes_today_a_working_day() -> None:
    clinic = _clinic((Weekday.SATURDAY, "22:00", "03:00"))
    assert location_first_open_day(clinic, SUNDAY) == SUNDAY
    assert location_first_open_day(clinic, MONDAY) == date(2031, 1, 11)


def test_a_location_without_hours_opens_on_today() -> None:
    assert location_first_open_day(_clinic(), SUNDAY) == SUNDAY


def test_the_next_opening_is_now_when_open_else_the_next_span_start():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from careline.locations.queries import location_next_opening

    chicago = ZoneInfo("America/Chicago")
    clinic = _clinic((Weekday.MONDAY, "08:00", "12:00"), (Weekday.MONDAY, "13:00", "17:00"))
    lunch = datetime(2031, 1, 6, 12, 30, tzinfo=chicago)
    assert location_next_opening(clinic, lunch) == datetime(2031, 1, 6, 13, 0, tzinfo=chicago)
    morning = datetime(2031, 1, 6, 9, 0, tzinfo=chicago)
    assert location_next_opening(clinic, morning) == morning
    saturday_night = datetime(2031, 1, 4, 22, 0, tzinfo=chicago)
    assert location_next_opening(clinic, saturday_night) == datetime(2031, 1, 6, 8, 0, tzinfo=chicago)
    never = Location.objects.create(
        name="Closed clinic", address_line1="2 Main St", city="Chicago", phone="+13125550101",
        time_zone="America/Chicago",
    )  # fmt: skip
    assert location_next_opening(never, saturday_night) is None
