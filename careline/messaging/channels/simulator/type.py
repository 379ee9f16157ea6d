"""The phone simulator: an SMS channel with no outside service, for development and demos.

Sent texts stay in the database and the simulator page shows them per number; answers typed there go
through `inbound_receive`, the same path a provider's webhook uses. Numbers ending in 0000 report
"undelivered", so failures can be seen too.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from careline.messaging.channels.base import ChannelType, InboundMessage, SendResult

if TYPE_CHECKING:
    from careline.messaging.models import Channel, Message

UNDELIVERABLE_SUFFIX = "0000"
SIMULATOR_CHANNEL: dict[str, Any] = {
    "name": "Phone simulator",
    "address": "+15550100000",
    "keyword_replies": "careline",  # KeywordReplies.CARELINE: the simulator has no provider to answer
}


class SimulatorType(ChannelType):
    code = "simulator"
    name = "Phone simulator"
    capabilities = frozenset({"sms", "mms"})

    def fallback_channel(self, kind: str) -> dict[str, Any] | None:
        """In development and demos (CARELINE_SIMULATOR), texts go to the simulator when no channel is set."""
        if kind == "sms" and settings.CARELINE_SIMULATOR:
            return dict(SIMULATOR_CHANNEL)
        return None

    def send(self, channel: Channel, message: Message) -> SendResult:
        provider_id = f"SIM{uuid.uuid4().hex}"
        message_id = message.pk

        def report() -> None:
            from careline.messaging.tasks import simulator_report_status

            simulator_report_status.delay(message_id, provider_id)

        transaction.on_commit(report)
        return SendResult(provider_message_id=provider_id)

    # find_sent stays the base's None: nothing leaves the database, so an interrupted send reached no phone.


def simulator_channel() -> Channel:
    """The embedded phone simulator channel (development and demos only)."""
    from careline.messaging.services.channels import channel_builtin

    return channel_builtin(type_code=SimulatorType.code, kind="sms", values=SIMULATOR_CHANNEL)


def simulator_deliver(message_id: int, provider_message_id: str) -> None:
    """Report delivered (or undelivered for numbers ending in 0000) through the status path.

    Like a real provider's callback it may arrive before the worker has recorded the send.
    """
    from careline.messaging.models import Message, MessageState
    from careline.messaging.outbound.status import message_status_apply

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
    from careline.messaging.services.inbound import inbound_receive

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
    from careline.messaging.models import Message, MessageState

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
