"""The shared `clock` fixture: time frozen at the instant a test names with `@pytest.mark.clock(INSTANT)`.

A module sets its instant once (`pytestmark = pytest.mark.clock(NOON_CHICAGO)`), a test may name its own, and
`pytest.mark.usefixtures("clock")` freezes every test of a module that does not ask for `clock` itself. The
fixture is time_machine's: `clock.move_to(...)` and `clock.shift(...)` move the frozen time (it never ticks).
"""

from __future__ import annotations

from typing import Any

import pytest

MARKER = "clock"


@pytest.fixture
def clock(request: pytest.FixtureRequest, time_machine: Any) -> Any:
    """Time frozen at the instant of the closest `clock` marker; move it with move_to() and shift()."""
    marker = request.node.get_closest_marker(MARKER)
    if marker is None or len(marker.args) != 1:
        pytest.fail("the clock fixture needs its instant: @pytest.mark.clock(datetime(..., tzinfo=...))")
    time_machine.move_to(marker.args[0], tick=False)
    return time_machine
