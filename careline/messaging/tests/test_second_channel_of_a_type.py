"""An administrator may add a second simulator or email channel; the pages that use 'the' channel still work."""

from __future__ import annotations

from typing import Any

import pytest

from careline.messaging.models import Channel
from careline.messaging.services.channels import channel_fallback, simulator_channel

pytestmark = pytest.mark.django_db


def test_the_simulator_pages_use_the_first_simulator_channel(personas: Any, client_for: Any) -> None:
    first = simulator_channel()
    Channel.objects.create(name="Second simulator", type_code="simulator", address="+15550100001")
    assert simulator_channel() == first
    client = client_for(personas.front_a)
    assert client.get("/inbox/simulator").status_code == 200
    assert client.get("/inbox/simulator/screen", {"number": "+13125550111"}).status_code == 200


def test_the_builtin_email_channel_is_the_first_email_channel() -> None:
    first = channel_fallback("email")
    Channel.objects.create(name="Second email", type_code="email", address="other@example.test")
    assert channel_fallback("email") == first
