"""`PlanTimes` (bulk planning's due times, each piece worked out once per local day) gives exactly what
`reminder_plan_time` gives for every visit: days-before and minutes-before rules, quiet hours on either side
of the window, windows across midnight, visits on daylight-saving days, past-due and after-start skips."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from careline.scheduling.models import ReminderRule
from careline.scheduling.services.reminder_times import PlanTimes, reminder_plan_time

ZONES = [
    ZoneInfo(name) for name in ("America/New_York", "America/Chicago", "Europe/London", "Pacific/Auckland")
]
WINDOWS = [
    (time(8, 0), time(21, 0)),
    (time(9, 30), time(17, 0)),
    (time(22, 0), time(6, 0)),
    (time(0, 0), time(23, 59)),
]
NOW = datetime(2025, 3, 7, 15, 0, tzinfo=UTC)
# Around the spring-forward and fall-back days of both hemispheres.
DAYS = [
    datetime(2025, 3, 8, tzinfo=UTC),
    datetime(2025, 4, 5, tzinfo=UTC),
    datetime(2025, 10, 25, tzinfo=UTC),
]


def _rules() -> list[ReminderRule]:
    return [
        ReminderRule(pk=1, name="2 days", days_before=2, at_local_time=time(18, 0)),
        ReminderRule(pk=2, name="Same day 2:30", days_before=0, at_local_time=time(2, 30)),
        ReminderRule(pk=3, name="1 day", days_before=1),
        ReminderRule(pk=4, name="2 hours", minutes_before=120),
        ReminderRule(pk=5, name="10 minutes", minutes_before=10),
    ]


@settings(max_examples=300, deadline=None)
@given(
    visits=st.lists(
        st.tuples(
            st.sampled_from(DAYS),
            st.integers(min_value=0, max_value=4 * 24 * 60),
            st.integers(0, len(ZONES) - 1),
            st.integers(0, len(WINDOWS) - 1),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_plan_times_are_reminder_plan_time(visits: list[tuple[datetime, int, int, int]]) -> None:
    times = PlanTimes(NOW)  # one cache across the visits, as one planning run keeps it
    for day, minutes, zone_index, window_index in visits:
        starts_at = day + timedelta(minutes=minutes)
        zone, window = ZONES[zone_index], WINDOWS[window_index]
        for rule in _rules():
            expected = reminder_plan_time(rule, starts_at=starts_at, zone=zone, window=window, now=NOW)
            assert times.plan(rule, starts_at=starts_at, zone=zone, window=window) == expected
