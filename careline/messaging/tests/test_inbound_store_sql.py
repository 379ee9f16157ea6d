"""The webhook's one-statement store of an inbound text: the row equals the ORM's, a retry is the same text, a
new contact's first text still gets its conversation, concurrent deliveries store one row."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from careline.messaging.channels.base import InboundMessage
from careline.messaging.models import Conversation, Message
from careline.messaging.services.channels import simulator_channel
from careline.messaging.services.inbound import _inbound_row, inbound_store
from careline.testing.races import race

PAT = "+13125550111"
NEW = "+13125550177"

pytestmark = [pytest.mark.clock(datetime(2026, 3, 4, 16, 0, tzinfo=UTC)), pytest.mark.usefixtures("clock")]


def _text(sid: str, contact: str = PAT, **kwargs: object) -> InboundMessage:
    return InboundMessage(
        provider_message_id=sid,
        from_address=contact,
        to_address="+13125550100",
        body="Running ten minutes late",
        **kwargs,  # type: ignore[arg-type]
    )


def _columns(message: Message) -> dict[str, object]:
    """Every stored column but the id and the provider's id, as read back from the database."""
    message.refresh_from_db()
    return {
        field.attname: getattr(message, field.attname)
        for field in Message._meta.concrete_fields
        if field.attname not in {"id", "provider_message_id"}
    }


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {
            "media": [{"url": "https://api.twilio.com/m/1", "content_type": "image/jpeg"}],
            "opt_out_type": "stop",
        },
    ],
)
def test_inbound_store_sql_writes_the_row_the_orm_writes(personas, extra):
    channel = simulator_channel()
    conversation = Conversation.objects.create(channel=channel, contact=PAT, patient=personas.pat)
    with CaptureQueriesContext(connection) as queries:
        stored, created = inbound_store(channel=channel, inbound=_text("IN-sql", **extra), enqueue=False)
    assert created and stored.pk is not None
    assert len(queries.captured_queries) == 1  # the conversation is read by the INSERT itself
    assert queries.captured_queries[0]["sql"].startswith("INSERT")
    reference = _inbound_row(channel=channel, inbound=_text("IN-orm", **extra))
    reference.conversation = conversation
    reference.patient_id = conversation.patient_id
    reference.save(force_insert=True)
    assert _columns(stored) == _columns(reference)
    assert stored.conversation_id == conversation.pk and stored.patient_id == personas.pat.pk


def test_a_retry_of_a_stored_text_is_recognised_inside_a_transaction_too(personas):
    channel = simulator_channel()
    first, created = inbound_store(channel=channel, inbound=_text("IN-retry"), enqueue=False)
    assert created
    with transaction.atomic():
        again, created_again = inbound_store(channel=channel, inbound=_text("IN-retry"), enqueue=False)
        assert Message.objects.filter(direction=Message.Direction.INBOUND).count() == 1  # still usable
    assert (again.pk, created_again) == (first.pk, False)


def test_a_new_contacts_first_text_makes_its_conversation_and_the_next_is_one_statement(personas):
    channel = simulator_channel()
    first, created = inbound_store(channel=channel, inbound=_text("IN-new-1", contact=NEW), enqueue=False)
    assert created
    conversation = Conversation.objects.get(channel=channel, contact=NEW)
    assert first.conversation_id == conversation.pk and first.patient_id is None  # nobody has this number
    with CaptureQueriesContext(connection) as queries:
        second, created = inbound_store(
            channel=channel, inbound=_text("IN-new-2", contact=NEW), enqueue=False
        )
    assert created and len(queries.captured_queries) == 1
    assert second.conversation_id == conversation.pk


def test_a_stored_text_queues_its_processing_on_commit(personas, django_capture_on_commit_callbacks):
    channel = simulator_channel()
    Conversation.objects.create(channel=channel, contact=PAT, patient=personas.pat)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        inbound_store(channel=channel, inbound=_text("IN-queue"))
        inbound_store(channel=channel, inbound=_text("IN-queue"))  # a retry queues nothing
    assert len(callbacks) == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_one_text_in_a_known_conversation_store_one_row(personas):
    channel = simulator_channel()
    Conversation.objects.create(channel=channel, contact=PAT, patient=personas.pat)

    def deliver() -> tuple[int, bool]:
        message, created = inbound_store(channel=channel, inbound=_text("IN-race"), enqueue=False)
        return message.pk, created

    results = race(deliver, count=5)
    stored = Message.objects.get(direction=Message.Direction.INBOUND, provider_message_id="IN-race")
    assert sorted(created for _, created in results) == [False, False, False, False, True]
    assert {pk for pk, _ in results} == {stored.pk}
