"""What the reply router's tests and the needs-attention tests share: a number no patient has, a time the
clinics are open and a text from the number (their fixtures, `open_hours` and `survey`, are in conftest.py)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from careline.messaging.models import Message
from careline.messaging.services.channels import simulator_channel
from careline.messaging.services.simulator import simulator_inbound

NUMBER = "+13125550177"  # no patient has it: nothing but the router decides where a text goes
# A Wednesday at 10:00 in Chicago: clinics are open, so no after-hours answer mixes in.
OPEN_HOURS = datetime(2026, 3, 4, 10, 0, tzinfo=ZoneInfo("America/Chicago"))


def text_from(body: str, number: str = NUMBER) -> Message:
    """A text BODY from NUMBER, through the simulator (inbound processing, the router)."""
    return simulator_inbound(channel=simulator_channel(), from_number=number, body=body)
