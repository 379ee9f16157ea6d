"""The handoff page starts at the previous shift, counted in the location's own time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from careline.patients.models import CareNote, NoteKind
from careline.patients.queries.notes import previous_shift_start

CHICAGO = ZoneInfo("America/Chicago")


@pytest.mark.parametrize(
    ("local_now", "expected_local_start"),
    [
        # The current shift is the one containing local_now; the answer is the start of the one before it.
        (datetime(2025, 7, 15, 6, 59), datetime(2025, 7, 14, 15, 0)),
        (datetime(2025, 7, 15, 7, 0), datetime(2025, 7, 14, 23, 0)),
        (datetime(2025, 7, 15, 10, 0), datetime(2025, 7, 14, 23, 0)),
        (datetime(2025, 7, 15, 14, 59), datetime(2025, 7, 14, 23, 0)),
        (datetime(2025, 7, 15, 15, 0), datetime(2025, 7, 15, 7, 0)),
        (datetime(2025, 7, 15, 22, 59), datetime(2025, 7, 15, 7, 0)),
        (datetime(2025, 7, 15, 23, 0), datetime(2025, 7, 15, 15, 0)),
        (datetime(2025, 7, 16, 0, 30), datetime(2025, 7, 15, 15, 0)),
        (datetime(2025, 1, 1, 2, 0), datetime(2024, 12, 31, 15, 0)),
    ],
)
def test_previous_shift_start_around_each_boundary(local_now, expected_local_start):
    now_utc = local_now.replace(tzinfo=CHICAGO).astimezone(UTC)
    start = previous_shift_start(now_utc, CHICAGO)
    assert start.tzinfo == UTC
    assert start == expected_local_start.replace(tzinfo=CHICAGO)


def test_previous_shift_start_uses_wall_clock_across_the_autumn_clock_change():
    # 2 Nov 2025: clocks go back at 02:00 in Chicago, so the night shift lasts 9 hours.
    now = datetime(2025, 11, 2, 8, 0, tzinfo=CHICAGO)  # 08:00 CST, in the day shift
    start = previous_shift_start(now, CHICAGO)
    assert start == datetime(2025, 11, 2, 4, 0, tzinfo=UTC)  # 23:00 CDT on 1 Nov
    assert (now - start).total_seconds() == 10 * 3600  # a 9-hour night shift, then 07:00-08:00


def test_the_same_instant_gives_each_location_its_own_previous_shift():
    instant = datetime(2025, 7, 15, 15, 0, tzinfo=UTC)  # 10:00 in Chicago, 08:00 in Los Angeles
    assert previous_shift_start(instant, CHICAGO) == datetime(2025, 7, 15, 4, 0, tzinfo=UTC)
    assert previous_shift_start(instant, ZoneInfo("America/Los_Angeles")) == datetime(
        2025, 7, 15, 6, 0, tzinfo=UTC
    )


def _note_at(patient, author, when, text):
    return CareNote.objects.create(
        patient=patient, kind=NoteKind.HANDOFF, text=text, author=author,
        location=patient.primary_location, created_at=when,
    )  # fmt: skip


@pytest.mark.django_db
def test_the_page_defaults_to_the_previous_shift_of_the_persons_location(personas, client_for):
    # Northside (A) is in Chicago. At 10:00 CDT the previous shift began at 23:00 CDT = 04:00 UTC.
    _note_at(personas.pat, personas.front_a, datetime(2025, 7, 15, 3, 59, tzinfo=UTC), "Before the shift")
    _note_at(personas.pat, personas.front_a, datetime(2025, 7, 15, 4, 0, tzinfo=UTC), "At the shift start")
    _note_at(personas.pat, personas.front_a, datetime(2025, 7, 15, 14, 0, tzinfo=UTC), "This morning")
    client = client_for(personas.front_a)
    with time_machine.travel(datetime(2025, 7, 15, 15, 0, tzinfo=UTC), tick=False):
        content = client.get(reverse("patients:handoff")).content.decode()
    assert "since Mon 14 Jul, 23:00 CDT" in content
    assert "At the shift start" in content
    assert "This morning" in content
    assert "Before the shift" not in content
    assert content.index("This morning") < content.index("At the shift start")  # newest first
    assert reverse("patients:detail", args=[personas.pat.pk]) in content


@pytest.mark.django_db
def test_the_default_moves_when_the_shift_changes(personas, client_for):
    _note_at(
        personas.pat, personas.front_a, datetime(2025, 7, 15, 5, 0, tzinfo=UTC), "Night note"
    )  # 00:00 CDT
    client = client_for(personas.front_a)
    with time_machine.travel(datetime(2025, 7, 15, 19, 59, tzinfo=UTC), tick=False):  # 14:59 CDT: day shift
        before = client.get(reverse("patients:handoff")).content.decode()
    with time_machine.travel(
        datetime(2025, 7, 15, 20, 0, tzinfo=UTC), tick=False
    ):  # 15:00 CDT: evening shift
        after = client.get(reverse("patients:handoff")).content.decode()
    assert "Night note" in before
    assert "Night note" not in after
    assert "since Tue 15 Jul, 07:00 CDT" in after


@pytest.mark.django_db
def test_a_chosen_since_is_read_in_the_locations_time_zone(personas, client_for):
    _note_at(personas.quinn, personas.front_b, datetime(2025, 7, 15, 12, 30, tzinfo=UTC), "Harbor 05:30 PDT")
    client = client_for(personas.front_b)
    with time_machine.travel(datetime(2025, 7, 15, 20, 0, tzinfo=UTC), tick=False):
        url = reverse("patients:handoff")
        location = personas.location_b.pk
        included = client.get(url, {"location": location, "since": "2025-07-15T05:30"}).content.decode()
        excluded = client.get(url, {"location": location, "since": "2025-07-15T05:31"}).content.decode()
    assert "Harbor 05:30 PDT" in included
    assert "Harbor 05:30 PDT" not in excluded
