"""Shared set-up of the inbox and simulator tests: a frozen clock inside opening hours and conversations."""

from __future__ import annotations

from datetime import UTC, datetime

from careline.messaging.models import Conversation
from careline.messaging.services.channels import simulator_channel
from careline.messaging.services.simulator import simulator_inbound

# A Wednesday, 12:00 in Chicago (location A) and 10:00 in Los Angeles (B): texting window and opening hours.
NOON_CHICAGO = datetime(2026, 3, 4, 18, 0, tzinfo=UTC)

PAT_NUMBER = "+13125550111"
QUINN_NUMBER = "+14155550122"


def texted_by(number: str, body: str = "Hello, is the clinic open Friday?") -> Conversation:
    """The simulator conversation after NUMBER texted BODY (through the real inbound path)."""
    channel = simulator_channel()
    message = simulator_inbound(channel=channel, from_number=number, body=body)
    return Conversation.objects.select_related("patient").get(pk=message.conversation_id)
