"""The demo clinic's on-call rota: nights and weekends for each location, the nurse and the doctor taking
turns as on call and backup, from a few days ago to four weeks ahead (one gap left to show how it looks)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from careline.locations.models import Location
from careline.oncall.models import OnCallShift

DEMO_MOBILES = ("+16145550181", "+16145550182")  # fictional 555-01xx numbers for the two clinicians
DAYS_BACK, DAYS_AHEAD = 3, 28
GAP_DAY = 10  # this many days from today the night is left uncovered


def oncall_seed_demo(
    *, locations: Sequence[Location], clinicians: Sequence[Any], today: date
) -> dict[str, int]:
    """Night (17:00-08:00) and weekend-day (08:00-17:00) shifts at each of LOCATIONS; counts."""
    for person, mobile in zip(clinicians, DEMO_MOBILES, strict=False):
        if not person.mobile:
            person.mobile = mobile
            person.save(update_fields=["mobile"])
    rows = []
    for offset, location in enumerate(locations):
        zone = location.zone
        for back in range(-DAYS_BACK, DAYS_AHEAD):
            day = today + timedelta(days=back)
            turn = (back + offset) % 2
            clinician, backup = clinicians[turn % len(clinicians)], clinicians[(turn + 1) % len(clinicians)]
            if back == GAP_DAY:
                continue
            spans = [(time(17), day + timedelta(days=1), time(8))]
            if day.weekday() >= 5:
                spans.insert(0, (time(8), day, time(17)))
            for starts, end_day, ends in spans:
                rows.append(
                    OnCallShift(
                        location=location,
                        clinician=clinician,
                        backup=backup if backup != clinician else None,
                        starts_at=datetime.combine(day, starts, tzinfo=zone),
                        ends_at=datetime.combine(end_day, ends, tzinfo=zone),
                    )
                )
    OnCallShift.objects.bulk_create(rows)
    return {"on-call shifts": len(rows)}
