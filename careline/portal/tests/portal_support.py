"""Shared steps of the portal sign-in tests: texting at any hour, the link and the code a message carried."""

from __future__ import annotations

import re
from datetime import time
from typing import Any

import pytest

from careline.messaging.models import Message

LINK = re.compile(r"https?://\S+/portal/invite/([\w-]+)/")
CODE = re.compile(r"\b(\d{6})\b")


@pytest.fixture
def texting_all_day(settings: Any) -> None:
    """Automated texts are held in quiet hours: let them go whatever the hour the test runs."""
    settings.CARELINE_TEXTING_WINDOW = (time(0, 0), time.max)


def last_message_to(address: str) -> Message:
    return Message.objects.filter(to_address=address, direction="out").latest("pk")


def token_sent_to(address: str) -> str:
    match = LINK.search(last_message_to(address).body)
    assert match, "the message carries no invitation link"
    return match.group(1)


def code_sent_to(address: str) -> str:
    match = CODE.search(last_message_to(address).body)
    assert match, "the message carries no code"
    return match.group(1)
