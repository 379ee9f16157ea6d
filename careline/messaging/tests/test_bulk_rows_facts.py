"""Messages created in bulk (the announcement fan-out, messages_send_bulk) keep the inbox's derived rows right:
the conversation row facts (migration 0018) equal their derived computation, and on PostgreSQL each
conversation's search words (migration 0019's triggers) equal a rebuild from its messages."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from careline.messaging.conversation_facts import derived_facts, stored_facts
from careline.messaging.models import Conversation, Message, MessageKind
from careline.messaging.outbound.bulk import OutboundItem, messages_send_bulk
from careline.messaging.services import announcements
from careline.messaging.services.announcements import announcement_messages_create
from careline.messaging.services.channels import simulator_channel
from careline.messaging.tests.h3_support import add_patient, announcement
from careline.messaging.tests.inbox_support import texted_by
from careline.patients.models import ConsentKind

pytestmark = pytest.mark.django_db

MIDDAY = datetime(2030, 3, 5, 12, 0, tzinfo=ZoneInfo("America/Chicago"))


def _cast(personas):
    a = personas.location_a
    patients = [add_patient(a, f"MRN-B{n}", f"+1312555{n:04d}") for n in range(7)]
    patients.append(add_patient(a, "MRN-OUT", "+13125559001", consent=ConsentKind.REVOKED))
    patients.append(add_patient(a, "MRN-NONE", "+13125559002", consent=None))
    # Two already talk to the clinic: their conversations exist, with words and a waiting patient.
    texted_by("+13125550001", "Is parking free at the clinic?")
    texted_by("+13125559001", "STOP")
    return patients


def _search_words_match_a_rebuild() -> None:
    if connection.vendor != "postgresql":
        return  # SQLite keeps no search rows (its search reads message bodies)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.id, coalesce(tsvector_to_array(s.document), '{}'),
                   coalesce(tsvector_to_array(strip(to_tsvector('simple', coalesce(
                       (SELECT string_agg(m.body, ' ') FROM messaging_message m WHERE m.conversation_id = c.id),
                       '')))), '{}')
            FROM messaging_conversation c LEFT JOIN messaging_conversationsearch s ON s.conversation_id = c.id
            """
        )
        rows = cursor.fetchall()
    assert rows
    for conversation_id, stored, rebuilt in rows:
        assert set(stored) == set(rebuilt), conversation_id


@time_machine.travel(MIDDAY, tick=False)
def test_fanout_in_several_batches_keeps_row_facts_and_search_words(personas, monkeypatch):
    patients = _cast(personas)
    monkeypatch.setattr(announcements, "FANOUT_BATCH", 4)
    sent = announcement(personas.admin, body="Hi {first_name}, the clinic is closed on Monday.")
    created = announcement_messages_create(announcement_id=sent.pk)
    assert created == Message.objects.filter(announcement=sent).count() >= len(patients)
    conversations = Conversation.objects.all()
    assert stored_facts(conversations) == derived_facts(conversations)
    assert Conversation.objects.get(contact="+13125559001").opted_out
    _search_words_match_a_rebuild()
    # A second run (a redelivered task) creates nothing and changes no fact.
    assert announcement_messages_create(announcement_id=sent.pk) == 0


@time_machine.travel(MIDDAY, tick=False)
def test_bulk_send_keeps_row_facts_and_search_words(personas):
    patients = _cast(personas)
    items = [
        OutboundItem(body=f"Your results are ready, {p.mrn}", idempotency_key=f"k{p.pk}", patient=p)
        for p in patients
    ]
    items.append(OutboundItem(body="Parking is free", idempotency_key="by-number", to_address="+13125550001"))
    results = messages_send_bulk(items=items, channel=simulator_channel(), kind=MessageKind.STAFF)
    assert all(isinstance(result, Message) for result in results.values())
    conversations = Conversation.objects.all()
    assert stored_facts(conversations) == derived_facts(conversations)
    assert (
        Message.objects.filter(
            conversation__contact="+13125550001", direction=Message.Direction.OUTBOUND
        ).count()
        == 2
    )
    _search_words_match_a_rebuild()
