"""The shared `clock` fixture freezes time at the instant a test or its class names, and refuses to guess one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

CLASS_INSTANT = datetime(2026, 3, 4, 18, 0, tzinfo=UTC)
TEST_INSTANT = datetime(2025, 2, 3, 16, 0, tzinfo=UTC)


@pytest.mark.clock(CLASS_INSTANT)
class TestFrozenClock:
    def test_time_stands_at_the_instant_of_the_closest_marker(self, clock: Any) -> None:
        assert timezone.now() == CLASS_INSTANT
        assert timezone.now() == CLASS_INSTANT  # frozen: it does not tick

    @pytest.mark.clock(TEST_INSTANT)
    def test_a_test_may_name_its_own_instant(self, clock: Any) -> None:
        assert timezone.now() == TEST_INSTANT

    def test_the_clock_moves_only_when_told(self, clock: Any) -> None:
        clock.shift(timedelta(hours=2))
        assert timezone.now() == CLASS_INSTANT + timedelta(hours=2)
        clock.move_to(TEST_INSTANT)
        assert timezone.now() == TEST_INSTANT

    def test_time_runs_for_a_test_that_does_not_ask_for_the_clock(self) -> None:
        assert timezone.now() != CLASS_INSTANT


def test_the_clock_without_an_instant_fails_with_a_clear_message(request: pytest.FixtureRequest) -> None:
    with pytest.raises(pytest.fail.Exception, match="needs its instant"):
        request.getfixturevalue("clock")
