"""The demo clinic's rota: nights and weekends covered at each location, one night left as a gap."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from careline.oncall.demo import GAP_DAY, oncall_seed_demo
from careline.oncall.queries import on_call_now, rota_window
from careline.oncall.tests.helpers import backup_clinician


def test_the_demo_rota_covers_nights_with_a_backup_and_shows_one_gap(personas):
    backup = backup_clinician(personas)
    backup.locations.add(personas.location_b)
    personas.clinician_a.locations.add(personas.location_b)
    today = date(2026, 12, 7)  # a Monday
    counts = oncall_seed_demo(
        locations=[personas.location_a, personas.location_b],
        clinicians=[personas.clinician_a, backup],
        today=today,
    )
    assert counts["on-call shifts"] > 50
    for location in (personas.location_a, personas.location_b):
        night = datetime.combine(today + timedelta(days=1), time(3), tzinfo=location.zone)
        shift = on_call_now(location, night)
        assert shift is not None and shift.backup is not None and shift.backup != shift.clinician
        midday = datetime.combine(today + timedelta(days=1), time(12), tzinfo=location.zone)
        assert on_call_now(location, midday) is None  # open hours: the clinic answers itself
        saturday = datetime.combine(date(2026, 12, 12), time(12), tzinfo=location.zone)
        assert on_call_now(location, saturday) is not None
    gap_night = datetime.combine(today + timedelta(days=GAP_DAY), time(22), tzinfo=personas.location_a.zone)
    assert on_call_now(personas.location_a, gap_night) is None
    window = rota_window(personas.location_a, gap_night - timedelta(hours=6), gap_night + timedelta(hours=6))
    assert window.gaps
    personas.clinician_a.refresh_from_db()
    assert personas.clinician_a.mobile.startswith("+1614555")
