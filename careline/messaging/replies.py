"""Handlers other apps register to answer patients' texts (reminder replies, waitlist offers).

Inbound processing calls them, in order, for every text that is not a compliance keyword; the first
that returns True has handled it (and the after-hours reply is skipped). Messaging never imports them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from careline.messaging.models import Conversation, Message

ReplyHandler = Callable[["Conversation", "Message"], bool]

_handlers: list[ReplyHandler] = []


def register_reply_handler(handler: ReplyHandler) -> ReplyHandler:
    """Add HANDLER(conversation, message) -> handled; usable as a decorator."""
    if handler not in _handlers:
        _handlers.append(handler)
    return handler


def reply_handlers_run(conversation: Conversation, message: Message) -> bool:
    """Offer MESSAGE to each handler until one handles it."""
    return any(handler(conversation, message) for handler in list(_handlers))
