"""Who is on call at a moment: edges, overlaps, gaps, the location's zone and the nights clocks change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from careline.oncall.queries import on_call_now, rota_window, someone_on_call
from careline.oncall.services.rota import local_instant
from careline.oncall.tests.helpers import backup_clinician, shift

CHICAGO = ZoneInfo("America/Chicago")
LA = ZoneInfo("America/Los_Angeles")


def test_a_shift_covers_from_its_start_up_to_but_not_including_its_end(personas):
    starts = datetime(2026, 12, 7, 23, 0, tzinfo=UTC)
    row = shift(personas.location_a, personas.clinician_a, starts, starts + timedelta(hours=10))
    assert on_call_now(personas.location_a, starts - timedelta(seconds=1)) is None
    assert on_call_now(personas.location_a, starts) == row
    assert on_call_now(personas.location_a, starts + timedelta(hours=10) - timedelta(seconds=1)) == row
    assert on_call_now(personas.location_a, starts + timedelta(hours=10)) is None
    assert on_call_now(personas.location_b, starts + timedelta(hours=1)) is None  # another location's rota


def test_in_a_handover_overlap_the_shift_that_started_last_answers(personas):
    backup = backup_clinician(personas)
    first = datetime(2026, 12, 7, 23, 0, tzinfo=UTC)
    shift(personas.location_a, personas.clinician_a, first, first + timedelta(hours=12))
    later = shift(personas.location_a, backup, first + timedelta(hours=11), first + timedelta(hours=24))
    assert on_call_now(personas.location_a, first + timedelta(hours=11, minutes=30)) == later


def test_the_window_shows_gaps_and_overlaps_clipped_to_it(personas):
    backup = backup_clinician(personas)
    day = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)
    shift(personas.location_a, personas.clinician_a, day + timedelta(hours=2), day + timedelta(hours=10))
    shift(personas.location_a, backup, day + timedelta(hours=8), day + timedelta(hours=30))
    window = rota_window(personas.location_a, day, day + timedelta(days=1))
    assert [(g.starts_at, g.ends_at) for g in window.gaps] == [(day, day + timedelta(hours=2))]
    assert [(o.starts_at, o.ends_at) for o in window.overlaps] == [
        (day + timedelta(hours=8), day + timedelta(hours=10))
    ]
    assert len(window.shifts) == 2


def test_back_to_back_shifts_leave_no_gap(personas):
    backup = backup_clinician(personas)
    day = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)
    shift(personas.location_a, personas.clinician_a, day, day + timedelta(hours=12))
    shift(personas.location_a, backup, day + timedelta(hours=12), day + timedelta(hours=24))
    window = rota_window(personas.location_a, day, day + timedelta(days=1))
    assert window.gaps == [] and window.overlaps == []


def test_an_empty_rota_is_one_gap(personas):
    day = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)
    window = rota_window(personas.location_a, day, day + timedelta(days=7))
    assert [(g.starts_at, g.ends_at) for g in window.gaps] == [(day, day + timedelta(days=7))]


def test_times_are_read_on_the_locations_clock():
    # 17:00 in Chicago (CST, UTC-6) and in Los Angeles (PST, UTC-8) are different instants.
    assert local_instant(datetime(2026, 12, 7, 17, 0), CHICAGO) == datetime(2026, 12, 7, 23, 0, tzinfo=UTC)
    assert local_instant(datetime(2026, 12, 7, 17, 0), LA) == datetime(2026, 12, 8, 1, 0, tzinfo=UTC)


def test_a_time_the_clocks_skip_is_refused_and_a_repeated_one_is_the_first():
    with pytest.raises(ValidationError, match="does not exist"):
        local_instant(datetime(2026, 3, 8, 2, 30), CHICAGO)  # spring forward: 02:00 -> 03:00
    # Fall back: 01:30 happens twice; the first (CDT, UTC-5) is taken.
    assert local_instant(datetime(2026, 11, 1, 1, 30), CHICAGO) == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)


def test_a_night_shift_across_the_spring_change_is_an_hour_shorter(personas):
    starts = local_instant(datetime(2026, 3, 7, 20, 0), CHICAGO)
    ends = local_instant(datetime(2026, 3, 8, 8, 0), CHICAGO)
    row = shift(personas.location_a, personas.clinician_a, starts, ends)
    assert ends - starts == timedelta(hours=11)
    assert on_call_now(personas.location_a, datetime(2026, 3, 8, 3, 30, tzinfo=CHICAGO)) == row
    assert on_call_now(personas.location_a, datetime(2026, 3, 8, 8, 0, tzinfo=CHICAGO)) is None


def test_someone_on_call_answers_for_now(personas, time_machine):
    now = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
    time_machine.move_to(now, tick=False)
    assert not someone_on_call(personas.location_a.pk)
    shift(personas.location_a, personas.clinician_a, now - timedelta(hours=1), now + timedelta(hours=1))
    assert someone_on_call(personas.location_a.pk)
