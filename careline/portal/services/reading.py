"""What a portal account has read: opening a thread marks its messages read for that account."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import F, Value
from django.db.models.functions import Greatest

from careline.messaging.models import Conversation, Message
from careline.portal.models import PortalAccount, PortalReadMark


def portal_thread_mark_read(
    *, account: PortalAccount, conversation: Conversation, messages: Sequence[Message]
) -> None:
    """Mark MESSAGES (what the page showed) of CONVERSATION read for ACCOUNT; the mark never moves back."""
    newest = max((message.pk for message in messages), default=0)
    if not newest:
        return
    mark, created = PortalReadMark.objects.get_or_create(
        account=account, conversation=conversation, defaults={"last_read_message_id": newest}
    )
    if not created and mark.last_read_message_id < newest:
        PortalReadMark.objects.filter(pk=mark.pk).update(
            last_read_message_id=Greatest(F("last_read_message_id"), Value(newest))
        )
