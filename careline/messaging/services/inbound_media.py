"""Media patients send (MMS): copied from the provider into Careline's storage by the inbound task.

Staff then see Careline's copy through an authorized, audited view instead of the provider's address.
Only images and PDFs of at most MAX_ATTACHMENT_BYTES are kept; anything else, or a file the provider
will not give, is recorded on the item as `error` and shown to staff as not copied.
"""

from __future__ import annotations

import logging
from typing import Any

from careline.messaging.channels.base import ProviderError
from careline.messaging.models import Message
from careline.messaging.services.attachments import MAX_ATTACHMENT_BYTES, inbound_media_type, media_save

logger = logging.getLogger(__name__)


def inbound_media_fetch(message_id: int) -> int:
    """Copy the not yet copied media of inbound message MESSAGE_ID into storage; how many were copied.

    Runs in the inbound processing task, never in the webhook: a slow provider must not hold the answer.
    """
    message = (
        Message.objects.select_related("channel")
        .filter(pk=message_id, direction=Message.Direction.INBOUND)
        .first()
    )
    if message is None or not message.media:
        return 0
    items: list[dict[str, Any]] = [dict(item) for item in message.media if isinstance(item, dict)]
    pending = [item for item in items if item.get("url") and not item.get("file") and not item.get("error")]
    if not pending:
        return 0
    channel = message.channel
    copied = 0
    for item in pending:
        try:
            data = channel.type.fetch_media(channel, str(item["url"]), max_bytes=MAX_ATTACHMENT_BYTES)
        except ProviderError as exc:
            # The address is not logged: it is the key to the patient's file at the provider.
            logger.info("media of inbound message %s not copied: %s", message_id, exc)
            item["error"] = "the provider did not give the file" if not exc.permanent else str(exc)[:120]
            continue
        detected = inbound_media_type(data)
        if detected is None:
            item["error"] = "not an image or a PDF"
            continue
        content_type, extension = detected
        item["file"] = media_save(conversation_id=message.conversation_id, data=data, extension=extension)
        item["content_type"] = content_type
        copied += 1
    Message.objects.filter(pk=message_id).update(media=items)
    return copied
