"""`objects_copy` (COPY on PostgreSQL) writes the same rows as the ORM's bulk_create, and gives the instances
their ids as bulk_create does."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.forms.models import model_to_dict

from careline.core.rowcopy import objects_copy
from careline.messaging.models import Message, MessageKind, MessageState
from careline.messaging.tests.inbox_support import texted_by

pytestmark = pytest.mark.django_db

MOMENT = datetime(2030, 3, 5, 18, 0, tzinfo=UTC)


def _message(conversation: Any, key: str, **extra: Any) -> Message:
    return Message(
        conversation=conversation,
        channel=conversation.channel,
        patient=conversation.patient,
        direction=Message.Direction.OUTBOUND,
        kind=MessageKind.AUTOMATED,
        to_address=conversation.contact,
        body="Your statement is ready",
        media=[{"url": "https://example.test/a.png", "content_type": "image/png"}],
        state=MessageState.QUEUED,
        idempotency_key=key,
        sensitive=True,
        due_at=MOMENT,
        **extra,
    )


def _columns(message: Message) -> dict[str, Any]:
    row = model_to_dict(Message.objects.get(pk=message.pk))
    row.pop("id")
    row.pop("idempotency_key")
    return row


@time_machine.travel(MOMENT, tick=False)
def test_objects_copy_writes_the_rows_bulk_create_writes() -> None:
    conversation = texted_by("+13125550111")
    by_orm = _message(conversation, "orm")
    Message.objects.bulk_create([by_orm])
    copied = [
        _message(conversation, "copy-1"),
        _message(conversation, "copy-2", segments=2, encoding="UCS-2"),
    ]
    objects_copy(copied)
    assert all(m.pk and not m._state.adding for m in copied)
    assert copied[0].pk != copied[1].pk and copied[0].created_at == MOMENT
    assert _columns(copied[0]) == _columns(by_orm)
    assert Message.objects.get(pk=copied[1].pk).encoding == "UCS-2"
    assert Message.objects.get(pk=copied[0].pk).media == by_orm.media


def test_objects_copy_raises_integrity_error_on_a_taken_key_and_leaves_nothing() -> None:
    conversation = texted_by("+13125550111")
    objects_copy([_message(conversation, "taken")])
    before = Message.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic():
        objects_copy([_message(conversation, "fresh"), _message(conversation, "taken")])
    assert Message.objects.count() == before
    objects_copy([])  # nothing to write: no query
