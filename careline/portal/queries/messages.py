"""Reads of the portal's messages: the open record's portal conversations, their unread counts for the
signed-in account, one thread, and the files in it. Everything starts from the patient's own conversations."""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404

from careline.messaging.channels.portal.conversations import (
    VISIBLE_STATES,
    portal_conversations_of,
    portal_thread,
)
from careline.messaging.models import Conversation, Message, MessageState
from careline.portal.models import PortalAccount, PortalReadMark


def conversations_for(account: PortalAccount, patient_id: int) -> list[Conversation]:
    """The patient's portal conversations, newest first, each with `unread`: messages delivered to the
    patient that ACCOUNT has not seen (one query)."""
    read_up_to = PortalReadMark.objects.filter(account=account, conversation=OuterRef("pk")).values(
        "last_read_message_id"
    )[:1]
    unread = (
        Message.objects.filter(
            conversation=OuterRef("pk"),
            direction=Message.Direction.OUTBOUND,
            state=MessageState.DELIVERED,
            pk__gt=OuterRef("read_up_to"),
        )
        .order_by()
        .values("conversation")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return list(
        portal_conversations_of(patient_id)
        .annotate(read_up_to=Coalesce(Subquery(read_up_to), Value(0), output_field=IntegerField()))
        .annotate(unread=Coalesce(Subquery(unread, output_field=IntegerField()), Value(0)))
    )


def unread_total(account: PortalAccount, patient_id: int) -> int:
    """How many messages in the patient's portal conversations ACCOUNT has not read (one query)."""
    return sum(conversation.unread for conversation in conversations_for(account, patient_id))  # type: ignore[attr-defined]


def conversation_of(patient_id: int, pk: int) -> Conversation:
    """The patient's portal conversation PK; Http404 for any other (another patient's, or not a portal one)."""
    conversation = portal_conversations_of(patient_id).select_related("channel").filter(pk=pk).first()
    if conversation is None:
        raise Http404("no such conversation")
    return conversation


def thread_messages(conversation: Conversation, *, limit: int = 200) -> list[Message]:
    """What the patient sees of CONVERSATION, oldest first, each with `files`: [{name, label, content_type}]."""
    entries = portal_thread(conversation, limit=limit)
    for message in entries:
        files = []
        for item in message.media or []:
            stored = str(item.get("file") or "") if isinstance(item, dict) else ""
            if "/" in stored:
                content_type = str(item.get("content_type") or "")
                label = str(item.get("name") or "") or ("PDF" if content_type.endswith("pdf") else "image")
                files.append({"name": stored.split("/", 1)[1], "label": label, "content_type": content_type})
        message.files = files  # type: ignore[attr-defined]
    return entries


def file_of(conversation: Conversation, name: str) -> dict[str, str] | None:
    """The media item NAME (its stored file's name) of a message the patient may see in CONVERSATION."""
    wanted = f"{conversation.pk}/{name}"
    for media in (
        Message.objects.filter(conversation=conversation, state__in=VISIBLE_STATES)
        .exclude(media=[])
        .values_list("media", flat=True)
    ):
        for item in media or []:
            if isinstance(item, dict) and item.get("file") == wanted:
                return item
    return None
