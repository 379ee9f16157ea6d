"""What the phone simulator does with messages: its delivery reports, answers typed on its page, early release.

The simulator's channel type (careline.messaging.channels.simulator.type) queues the delivery report by task
name; the task calls `simulator_deliver` here, which reports through the same status path as a provider.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from careline.messaging.channels.base import InboundMessage
from careline.messaging.channels.simulator.type import UNDELIVERABLE_SUFFIX, SimulatorType
from careline.messaging.models import Channel, Message, MessageState
from careline.messaging.outbound.status import message_status_apply
from careline.messaging.services.inbound import inbound_receive


def simulator_deliver(message_id: int, provider_message_id: str) -> None:
    """Report delivered (or undelivered for numbers ending in 0000) through the status path.

    Like a real provider's callback it may arrive before the worker has recorded the send.
    """
    message = Message.objects.select_related("channel").filter(pk=message_id).first()
    if message is None:
        return
    failed = message.to_address.endswith(UNDELIVERABLE_SUFFIX)
    message_status_apply(
        channel=message.channel,
        provider_message_id=provider_message_id,
        message_id=message_id,
        state=MessageState.UNDELIVERED if failed else MessageState.DELIVERED,
        error_code="30003" if failed else "",
        error_message="Unreachable destination handset (simulated)" if failed else "",
    )


def simulator_inbound(*, channel: Channel, from_number: str, body: str) -> Message:
    """A text typed on the simulator page, received like a provider's webhook."""
    inbound = InboundMessage(
        provider_message_id=f"SIMIN{uuid.uuid4().hex}",
        from_address=from_number,
        to_address=channel.address,
        body=body,
    )
    return inbound_receive(channel=channel, inbound=inbound)


def simulator_release_held(*, channel: Channel, message_id: int, now: datetime | None = None) -> bool:
    """Development only: make a text the simulator holds for quiet hours due now; False when it is not one.

    Quiet hours protect real phones; the simulator's phones are pretend, so a newcomer trying the demo at
    night may let a held text go at once (the next sweep sends it). Only messages on the simulator channel
    qualify, and nothing at all while the simulator is off (always so in production): a held text to a real
    provider or an email address is never released early.
    """
    if not settings.CARELINE_SIMULATOR or channel.type_code != SimulatorType.code:
        return False
    return bool(
        Message.objects.filter(
            pk=message_id,
            channel=channel,
            direction=Message.Direction.OUTBOUND,
            state=MessageState.QUEUED,
            held_for_quiet_hours=True,
        ).update(due_at=now or timezone.now())
    )
