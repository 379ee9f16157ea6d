from datetime import UTC, datetime, time

import pytest

from careline.locations.forms import parse_day_hours
from careline.locations.models import Location, OpeningHours, Weekday

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic():
    location = Location.objects.create(
        name="Test Clinic",
        address_line1="1 Main St",
        city="Chicago",
        phone="+13125550100",
        time_zone="America/Chicago",
    )
    # Monday split shift; Friday night shift past midnight into Saturday.
    OpeningHours.objects.create(location=location, weekday=Weekday.MONDAY, opens=time(8), closes=time(12))
    OpeningHours.objects.create(location=location, weekday=Weekday.MONDAY, opens=time(13), closes=time(17))
    OpeningHours.objects.create(location=location, weekday=Weekday.FRIDAY, opens=time(22), closes=time(2))
    return location


def chicago(year, month, day, hour, minute=0):
    from zoneinfo import ZoneInfo

    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo("America/Chicago"))


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (chicago(2026, 6, 1, 7, 59), False),  # Monday before opening
        (chicago(2026, 6, 1, 8, 0), True),
        (chicago(2026, 6, 1, 11, 59), True),
        (chicago(2026, 6, 1, 12, 30), False),  # lunch gap of the split shift
        (chicago(2026, 6, 1, 13, 0), True),
        (chicago(2026, 6, 1, 17, 0), False),  # closing time is exclusive
        (chicago(2026, 6, 2, 9, 0), False),  # Tuesday: closed
    ],
)
def test_split_shift(clinic, moment, expected):
    assert clinic.is_open_at(moment) is expected


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (chicago(2026, 6, 5, 21, 59), False),  # Friday evening before the night shift
        (chicago(2026, 6, 5, 23, 30), True),
        (chicago(2026, 6, 6, 1, 59), True),  # Saturday small hours belong to Friday's shift
        (chicago(2026, 6, 6, 2, 0), False),
        (chicago(2026, 6, 6, 23, 0), False),  # Saturday night has no shift of its own
        (chicago(2026, 6, 7, 1, 0), False),  # nor does early Sunday
    ],
)
def test_hours_past_midnight(clinic, moment, expected):
    assert clinic.is_open_at(moment) is expected


def test_moment_in_another_zone_is_converted(clinic):
    # 13:30 UTC on a summer Monday is 08:30 in Chicago (CDT, UTC-5).
    assert clinic.is_open_at(datetime(2026, 6, 1, 13, 30, tzinfo=UTC)) is True
    assert clinic.is_open_at(datetime(2026, 6, 1, 12, 30, tzinfo=UTC)) is False


def test_daylight_saving_time_shifts_the_utc_opening(clinic):
    # Monday after DST starts (8 Mar 2026): 13:30 UTC is 08:30 CDT -> open.
    assert clinic.is_open_at(datetime(2026, 3, 9, 13, 30, tzinfo=UTC)) is True
    # Monday after DST ends (1 Nov 2026): the same 13:30 UTC is 07:30 CST -> still closed.
    assert clinic.is_open_at(datetime(2026, 11, 2, 13, 30, tzinfo=UTC)) is False
    assert clinic.is_open_at(datetime(2026, 11, 2, 14, 30, tzinfo=UTC)) is True


def test_night_shift_across_the_dst_change(clinic):
    # DST ends at 02:00 on Sunday 1 Nov; Friday 30 Oct 22:00 - Saturday 02:00 is unaffected,
    # and the hour that repeats on Sunday morning is not a Friday shift.
    assert clinic.is_open_at(chicago(2026, 10, 31, 1, 30)) is True
    assert clinic.is_open_at(datetime(2026, 11, 1, 6, 30, tzinfo=UTC)) is False  # 01:30 CDT Sunday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("08:00-12:00, 13:00-17:00", [(time(8), time(12)), (time(13), time(17))]),
        ("13:00-17:00; 08:00-12:00", [(time(8), time(12)), (time(13), time(17))]),
        ("08:00–12:00", [(time(8), time(12))]),
        ("18:00-02:00", [(time(18), time(2))]),
        ("08:00-12:00, 22:00-06:00", [(time(8), time(12)), (time(22), time(6))]),
    ],
)
def test_parse_day_hours(text, expected):
    assert parse_day_hours(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("8am-5pm", "is not a range like"),
        ("08:00", "is not a range like"),
        ("25:00-26:00", "is not a range like"),
        ("08:00-12:00, 11:00-17:00", "overlaps"),
        ("08:00-12:00, 08:00-10:00", "Two periods start at 08:00"),
        ("22:00-06:00, 23:00-23:30", "must be the day's last period"),
    ],
)
def test_parse_day_hours_errors(text, message):
    with pytest.raises(ValueError, match=message):
        parse_day_hours(text)
