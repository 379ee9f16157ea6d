"""The outbound package's shape: small modules, and quiet hours decided in one place (the policy)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import careline
from careline.messaging.outbound.policy import quiet_hours_latest_before

ROOT = Path(careline.__file__).resolve().parent
CHICAGO = ZoneInfo("America/Chicago")
WINDOW = (time(8, 0), time(20, 0))


def test_no_outbound_module_is_over_400_lines():
    sizes = {p.name: len(p.read_text().splitlines()) for p in (ROOT / "messaging" / "outbound").glob("*.py")}
    assert {"compose.py", "policy.py", "queue.py", "dispatch.py", "status.py", "sweep.py", "bulk.py"} <= set(
        sizes
    )
    assert max(sizes.values()) <= 400, sizes


def test_only_the_messaging_policy_decides_quiet_hours():
    deciders = ("window_release_at(", "window_last_open_before(")
    outside = [
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("*.py")
        if "tests" not in path.parts
        and path != ROOT / "messaging" / "outbound" / "policy.py"
        and any(name in path.read_text() for name in deciders)
    ]
    assert outside == []


def test_a_moment_inside_the_window_stays_and_one_outside_moves_to_the_last_open_minute_before():
    inside = datetime(2026, 3, 4, 18, 0, tzinfo=UTC)  # 12:00 in Chicago
    assert quiet_hours_latest_before(inside, zone=CHICAGO, window=WINDOW) == (inside, False)
    early = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)  # 06:00 in Chicago: the evening before, 19:59
    assert quiet_hours_latest_before(early, zone=CHICAGO, window=WINDOW) == (
        datetime(2026, 3, 5, 1, 59, tzinfo=UTC),
        True,
    )
