"""Fixtures of messaging's tests that more than one module asks for by name."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from careline.messaging.services.channels import simulator_channel
from careline.messaging.tests.router_support import OPEN_HOURS
from careline.messaging.tests.survey_feature import Survey, survey_registered


@pytest.fixture
def open_hours(time_machine: Any, personas: Any) -> Any:
    """Time frozen at OPEN_HOURS with the simulator channel made then; the modules' `clock`."""
    time_machine.move_to(OPEN_HOURS, tick=False)
    simulator_channel()
    return time_machine


@pytest.fixture
def survey() -> Iterator[Survey]:
    """The test-only survey feature, registered with the reply router for the test."""
    with survey_registered() as feature:
        yield feature
