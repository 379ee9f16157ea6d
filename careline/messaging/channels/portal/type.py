"""The portal channel type: a staff reply is "sent" by storing it for the signed-in patient to read.

Nothing leaves Careline, so a send is delivered at once; the patient is then told by their preferred
channel (text or email, without the message's content) that a message is waiting: the notice task,
queued by name after commit (careline/messaging/channels/portal/notices.py does the work).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.db import transaction

from careline.core.queue import task_enqueue
from careline.messaging.channels.base import ChannelType, SendResult

if TYPE_CHECKING:
    from careline.messaging.models import Channel, Message

PORTAL_CHANNEL: dict[str, Any] = {"name": "Patient portal", "address": "portal"}
NOTICE_TASK = "messaging.portal_reply_notice"


class PortalType(ChannelType):
    code = "portal"
    name = "Patient portal"
    capabilities = frozenset({"portal"})
    stays_in_careline = True
    inbox_label = "Portal"
    configurable = False
    redact_keys = frozenset({"body", "to", "from"})

    def send(self, channel: Channel, message: Message) -> SendResult:
        """The row is the delivery: the portal shows it. The patient's notice goes after commit."""
        message_id = message.pk
        transaction.on_commit(lambda: task_enqueue(NOTICE_TASK, message_id))
        return SendResult(provider_message_id=f"PORTAL{uuid.uuid4().hex}", state="delivered")
