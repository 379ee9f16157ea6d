"""The phone simulator: an SMS channel with no outside service, for development and demos.

Sent texts stay in the database and the simulator page shows them per number; answers typed there go
through `inbound_receive`, the same path a provider's webhook uses. Numbers ending in 0000 report
"undelivered", so failures can be seen too. This module is the channel type only: what the simulator
does with messages (its delivery report, typed answers) is careline.messaging.services.simulator, which
the type reaches through the task queue by name, so a channel type never imports the pipeline above it.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction

from careline.core.queue import task_enqueue
from careline.messaging.channels.base import ChannelType, SendResult

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

        transaction.on_commit(
            lambda: task_enqueue("messaging.simulator_report_status", message_id, provider_id)
        )
        return SendResult(provider_message_id=provider_id)

    def send_to_staff(self, channel: Channel, *, to_address: str, subject: str, body: str) -> SendResult:
        """Nothing leaves: the notice's own row (the on-call page) shows what was sent."""
        return SendResult(provider_message_id=f"SIM{uuid.uuid4().hex}")

    # find_sent stays the base's None: nothing leaves the database, so an interrupted send reached no phone.
