"""The conversation actions features call instead of writing messaging's rows: flag, tag and note."""

from __future__ import annotations

from typing import Any

from careline.messaging.models import Conversation, ConversationEvent, InternalNote
from careline.messaging.services.channels import simulator_channel
from careline.messaging.services.conversations import (
    conversation_flag,
    conversation_tag_automatic,
    internal_note_add_automatic,
)


def _closed_conversation() -> Conversation:
    return Conversation.objects.create(
        channel=simulator_channel(), contact="+13125550177", status=Conversation.Status.CLOSED
    )


def test_flagging_records_the_reason_and_opens_the_conversation(personas: Any) -> None:
    conversation = _closed_conversation()
    conversation_flag(conversation=conversation, reason="reply could be about more than one visit " * 10)
    event = ConversationEvent.objects.get(conversation=conversation)
    assert event.kind == ConversationEvent.Kind.FLAGGED and event.actor is None
    assert event.detail.startswith("reply could be about more than one visit") and len(event.detail) == 200
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.OPEN


def test_an_automatic_tag_keeps_its_name_and_is_added_once(personas: Any) -> None:
    conversation = _closed_conversation()
    conversation_tag_automatic(conversation=conversation, name="Front desk")
    conversation_tag_automatic(conversation=conversation, name="Front desk")
    assert list(conversation.tags.values_list("name", flat=True)) == ["Front desk"]
    assert not ConversationEvent.objects.filter(conversation=conversation).exists()


def test_an_automatic_note_has_no_author(personas: Any) -> None:
    conversation = _closed_conversation()
    internal_note_add_automatic(conversation=conversation, text="Asked by text to move their visit.")
    note = InternalNote.objects.get(conversation=conversation)
    assert note.author is None and note.text == "Asked by text to move their visit."
