"""What every scheduling answer to a patient's text shares: the reply being answered, the answer itself (one per
inbound message, never held for quiet hours: see replies.py) and how a visit's time reads in a text.

Below both replies.py and waitlist.py, which answer patients through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from careline.core.languages import say
from careline.locations.models import Location
from careline.messaging.models import Conversation, Message, MessageKind
from careline.messaging.outbound.compose import message_send
from careline.patients.models import Purpose
from careline.scheduling.reply_texts import VISIT_WHEN
from careline.scheduling.texts import human_date, human_time


@dataclass
class Reply:
    """One inbound text being answered."""

    conversation: Conversation
    message: Message
    now: datetime


def when_text(starts_at: datetime, location: Location, patient: Any, language: str) -> str:
    """'Thu, Dec 3 at 8:30 AM' on the location's clock (with the zone's abbreviation for a patient elsewhere)."""
    local = starts_at.astimezone(location.zone)
    clock = human_time(local, language)
    if patient is not None and patient.zone.key != location.zone.key:
        clock = f"{clock} {local.tzname()}"
    return say(VISIT_WHEN, language, date=human_date(local, language), time=clock)


def answer(reply: Reply, body: str, *, patient: Any = None) -> Message:
    """Text BODY back to the number REPLY came from (at most one answer per inbound message)."""
    return message_send(
        body=body,
        patient=reply.conversation.patient or patient,
        to_address=reply.conversation.contact,
        channel=reply.conversation.channel,
        kind=MessageKind.STAFF,
        purpose=Purpose.APPOINTMENTS,
        idempotency_key=f"scheduling-reply:{reply.message.pk}",
    )
