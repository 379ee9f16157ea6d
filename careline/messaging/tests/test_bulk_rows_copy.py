"""`messages_send_bulk` writes its rows with COPY on PostgreSQL (ids from the sequence, new conversations too,
or inserted around one made concurrently): the rows are exactly what `message_send` writes for the same
message, and the instances it returns hold what the table holds."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.forms.models import model_to_dict

from careline.messaging.conversation_facts import derived_facts, stored_facts
from careline.messaging.models import Channel, Conversation, Message, MessageKind
from careline.messaging.outbound import bulk as bulk_module
from careline.messaging.outbound import bulk_conversations
from careline.messaging.outbound.bulk import OutboundItem, messages_send_bulk
from careline.messaging.outbound.compose import message_send
from careline.messaging.services.channels import simulator_channel
from careline.messaging.tests.h3_support import add_patient
from careline.patients.models import ConsentKind, Purpose

pytestmark = pytest.mark.django_db

NIGHT = datetime(2030, 3, 5, 23, 0, tzinfo=ZoneInfo("America/Chicago"))  # quiet hours hold automated texts
MIDDAY = datetime(2030, 3, 5, 12, 0, tzinfo=ZoneInfo("America/Chicago"))
MESSAGE_OWN = {"id", "conversation", "channel", "idempotency_key", "from_address", "created_at"}
CONVERSATION_OWN = {"id", "channel", "created_at", "updated_at", "last_message_at"}


def _cast(personas: Any) -> list[Any]:
    a = personas.location_a
    return [
        add_patient(a, "MRN-C1", "+13125550101"),
        add_patient(a, "MRN-C2", "+13125550102", first="Ana"),
        add_patient(a, "MRN-OUT", "+13125550103", consent=ConsentKind.REVOKED),
        add_patient(a, "MRN-NONE", "+13125550104", consent=None),
    ]


def _items(patients: list[Any], prefix: str) -> list[OutboundItem]:
    items = [
        OutboundItem(
            body=f"Hello {p.legal_first_name}, your visit is on Monday.",
            idempotency_key=f"{prefix}{p.pk}",
            patient=p,
        )
        for p in patients
    ]
    items.append(
        OutboundItem(
            body="Your sign-in link",
            idempotency_key=f"{prefix}link",
            patient=patients[0],
            sensitive=True,
            subject_key="portal:1",
            media=({"url": "https://example.test/a.png", "content_type": "image/png"},),
        )
    )
    return items


def _one_by_one(items: list[OutboundItem], channel: Channel, kind: str) -> None:
    for item in items:
        message_send(
            body=item.body,
            patient=item.patient,
            channel=channel,
            kind=kind,
            purpose=Purpose.APPOINTMENTS,
            idempotency_key=item.idempotency_key,
            subject_key=item.subject_key,
            media=item.media,
            sensitive=item.sensitive,
        )


@pytest.mark.parametrize("moment", [MIDDAY, NIGHT], ids=["midday", "night"])
@pytest.mark.parametrize("kind", [MessageKind.AUTOMATED, MessageKind.STAFF])
def test_bulk_rows_are_the_rows_message_send_writes(personas: Any, moment: datetime, kind: str) -> None:
    patients = _cast(personas)
    bulk_channel = simulator_channel()
    one_channel = Channel.objects.create(
        name="Second simulator", type_code="simulator", address="+16145550198"
    )
    with time_machine.travel(moment, tick=False):
        results = messages_send_bulk(
            items=_items(patients, "bulk:"), channel=bulk_channel, kind=kind, purpose=Purpose.APPOINTMENTS
        )
        _one_by_one(_items(patients, "one:"), one_channel, kind)

    bulk = {
        (m.idempotency_key or "").removeprefix("bulk:"): m
        for m in Message.objects.filter(channel=bulk_channel)
    }
    one = {
        (m.idempotency_key or "").removeprefix("one:"): m for m in Message.objects.filter(channel=one_channel)
    }
    assert set(bulk) == set(one) and len(bulk) == len(patients) + 1
    states = {m.state for m in bulk.values()}
    assert "suppressed" in states and "queued" in states
    for key, stored in bulk.items():
        expected = model_to_dict(one[key], exclude=MESSAGE_OWN)
        assert model_to_dict(stored, exclude=MESSAGE_OWN) == expected, key
        assert stored.created_at == moment
        assert stored.conversation.channel_id == bulk_channel.pk
        # The returned instance is the stored row, related rows attached.
        returned = results[f"bulk:{key}"]
        assert isinstance(returned, Message)
        assert model_to_dict(returned) == model_to_dict(stored)
        assert returned.created_at == stored.created_at
        assert returned.conversation.pk == stored.conversation_id
    if moment == NIGHT and kind == MessageKind.AUTOMATED:
        assert any(m.held_for_quiet_hours for m in bulk.values())

    made = {c.contact: c for c in Conversation.objects.filter(channel=bulk_channel)}
    for conversation in Conversation.objects.filter(channel=one_channel):
        assert model_to_dict(made[conversation.contact], exclude=CONVERSATION_OWN) == model_to_dict(
            conversation, exclude=CONVERSATION_OWN
        )


@time_machine.travel(MIDDAY, tick=False)
def test_a_conversation_made_meanwhile_is_found_and_a_key_taken_meanwhile_falls_back(
    personas: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    patients = _cast(personas)
    channel = simulator_channel()
    # Someone else made the first patient's conversation before the batch...
    Conversation.objects.create(channel=channel, contact="+13125550101")
    conversations = bulk_module.batch_conversations

    def meanwhile(*args: Any, **kwargs: Any) -> Any:
        # ... and sent the second patient's message after the batch looked its key up: the COPY meets the key.
        message_send(body="Earlier", patient=patients[1], channel=channel, idempotency_key="bulk:taken")
        return conversations(*args, **kwargs)

    monkeypatch.setattr(bulk_module, "batch_conversations", meanwhile)
    items = [
        OutboundItem(body="Hello", idempotency_key="bulk:first", patient=patients[0]),
        OutboundItem(body="Hello again", idempotency_key="bulk:taken", patient=patients[1]),
    ]
    results = messages_send_bulk(items=items, channel=channel)
    first, taken = results["bulk:first"], results["bulk:taken"]
    assert isinstance(first, Message) and isinstance(taken, Message)
    assert first.conversation.contact == "+13125550101"
    assert Conversation.objects.get(contact="+13125550101").patient_id == patients[0].pk  # learnt its patient
    assert taken.body == "Earlier"
    assert Message.objects.filter(idempotency_key__startswith="bulk:").count() == 2
    assert Conversation.objects.filter(channel=channel).count() == 2


@time_machine.travel(MIDDAY, tick=False)
def test_a_conversation_made_after_the_look_up_is_inserted_around_and_read_back(
    personas: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new conversations' COPY meets one made after the batch looked the contacts up: the others are
    inserted around it, it is read back, and every conversation's facts equal the derived ones."""
    patients = _cast(personas)
    channel = simulator_channel()
    made_meanwhile = Conversation.objects.create(channel=channel, contact="+13125550101")
    found = bulk_conversations.conversations_found
    looks = []

    def not_yet_there(channel: Any, contacts: list[str]) -> Any:
        looks.append(contacts)
        conversations = found(channel, contacts)
        if len(looks) == 1:  # the first look-up ran before the other writer committed
            conversations.pop(made_meanwhile.contact, None)
        return conversations

    monkeypatch.setattr(bulk_conversations, "conversations_found", not_yet_there)
    items = [OutboundItem(body="Hello", idempotency_key=f"bulk:{p.pk}", patient=p) for p in patients]
    results = messages_send_bulk(items=items, channel=channel, kind=MessageKind.ANNOUNCEMENT)
    assert all(isinstance(result, Message) for result in results.values())
    assert results[f"bulk:{patients[0].pk}"].conversation_id == made_meanwhile.pk  # type: ignore[union-attr]
    assert Conversation.objects.filter(channel=channel).count() == len({p.pk for p in patients})
    conversations = Conversation.objects.all()
    assert stored_facts(conversations) == derived_facts(conversations)
    assert Conversation.objects.get(pk=made_meanwhile.pk).last_message_at is not None
