"""Bounded dates and times: every date a person or a client types goes through these.

Python's dates stop at years 1 and 9999, so arithmetic on a date typed near either end ("the week of
9999-12-31", "a reminder a day before") overflows. No input needs such dates: birth dates and reports stay
within 1900..2200 and anything on the schedule within a few years of today. The same bounds serve forms
(`BoundedDateField`, `BoundedDateTimeField`), query parameters (`parse_date`, `parse_local_datetime`) and
the API's schemas (`bounded_date`, `bounded_datetime`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

from django import forms
from django.utils import timezone

EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2200, 12, 31)
# Visits, messages and handoff notes: history a few years back, plans a few years ahead.
SCHEDULE_YEARS_BACK = 5
SCHEDULE_YEARS_AHEAD = 5

Bounds = Callable[[], tuple[date, date]]
DateT = TypeVar("DateT", bound=date)


class DateOutOfRangeError(ValueError):
    """A well-formed date outside the range its input allows; the message says the range."""


def _shift_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a common year
        return day.replace(year=day.year + years, day=28)


def any_date_bounds() -> tuple[date, date]:
    """1900-01-01 to 2200-12-31: reports, filters and anything without a tighter rule."""
    return EARLIEST_DATE, LATEST_DATE


def birth_date_bounds() -> tuple[date, date]:
    """1900-01-01 to today."""
    return EARLIEST_DATE, timezone.localdate()


def schedule_bounds() -> tuple[date, date]:
    """A few years either side of today: the calendar, bookings, scheduled messages, handoff."""
    today = timezone.localdate()
    return _shift_years(today, -SCHEDULE_YEARS_BACK), _shift_years(today, SCHEDULE_YEARS_AHEAD)


def fixed_bounds(first: date, last: date) -> Bounds:
    """Bounds that do not move with today."""
    return lambda: (first, last)


def range_message(bounds: Bounds) -> str:
    """'Enter a date between … and ….' for BOUNDS."""
    first, last = bounds()
    return f"Enter a date between {first:%Y-%m-%d} and {last:%Y-%m-%d}."


def check_date(value: DateT, bounds: Bounds = any_date_bounds) -> DateT:
    """VALUE if within BOUNDS (a datetime is judged by its date), else DateOutOfRangeError."""
    day = value.date() if isinstance(value, datetime) else value
    first, last = bounds()
    if not first <= day <= last:
        raise DateOutOfRangeError(range_message(bounds))
    return value


def parse_date(text: str, bounds: Bounds = any_date_bounds) -> date:
    """A YYYY-MM-DD date within BOUNDS; ValueError with a sentence for a person otherwise."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError("Enter a date such as 2025-03-01.") from None
    return check_date(day, bounds)


def parse_local_datetime(text: str, bounds: Bounds = schedule_bounds) -> datetime:
    """A wall-clock date and time (no zone) within BOUNDS; ValueError with a sentence otherwise."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError("Enter a date and time such as 2025-03-01 07:00.") from None
    return check_date(moment.replace(tzinfo=None), bounds)


class _BoundedMixin:
    """Required-ness as the field has it, then the range: the shared check of the bounded fields below."""

    bounds: Bounds

    def validate(self, value: Any) -> None:
        """The field's own validation, then the date range."""
        super().validate(value)  # type: ignore[misc]
        if value not in forms.Field.empty_values:
            try:
                check_date(value, self.bounds)
            except DateOutOfRangeError as exc:
                raise forms.ValidationError(str(exc), code="out_of_range") from None


class BoundedDateField(_BoundedMixin, forms.DateField):
    """A DateField that refuses dates outside BOUNDS with the range in the message."""

    def __init__(self, *, bounds: Bounds = any_date_bounds, **kwargs: Any) -> None:
        self.bounds = bounds
        super().__init__(**kwargs)


class BoundedDateTimeField(_BoundedMixin, forms.DateTimeField):
    """A DateTimeField that refuses moments whose date is outside BOUNDS."""

    def __init__(self, *, bounds: Bounds = schedule_bounds, **kwargs: Any) -> None:
        self.bounds = bounds
        super().__init__(**kwargs)


def bounded_date(bounds: Bounds = any_date_bounds) -> Callable[[date], date]:
    """A pydantic AfterValidator function refusing dates outside BOUNDS."""

    def validate(value: date) -> date:
        return check_date(value, bounds)

    return validate


def bounded_datetime(bounds: Bounds = schedule_bounds) -> Callable[[datetime], datetime]:
    """A pydantic AfterValidator function refusing moments whose date is outside BOUNDS."""

    def validate(value: datetime) -> datetime:
        return check_date(value, bounds)

    return validate
