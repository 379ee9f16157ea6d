"""Searching the inbox: a name by its start, any part of a phone number typed any usual way, and message text
(every word somewhere in the conversation: full-text over a GIN index of each conversation's words on
PostgreSQL, a substring on SQLite)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.urls import reverse

from careline.core.models import AuditEntry
from careline.messaging.queries.inbox_list import InboxFilters, inbox_conversations
from careline.messaging.tests.inbox_support import NOON_CHICAGO, texted_by
from careline.patients.models import Patient, PatientPhone

pytestmark = [pytest.mark.clock(NOON_CHICAGO), pytest.mark.usefixtures("clock")]

NUMBER = "+16145550170"


@pytest.fixture
def dana(personas: Any) -> Any:
    patient = Patient.objects.create(
        mrn="S-1",
        legal_first_name="Dana",
        legal_last_name="Whitfield",
        date_of_birth="1985-05-05",
        primary_location=personas.location_a,
    )
    PatientPhone.objects.create(patient=patient, number=NUMBER)
    conversation = texted_by(NUMBER, "Could you renew my prescription before Friday?")
    texted_by("+13125550999", "wrong number, sorry")
    return conversation


def _ids(user: Any, text: str) -> list[int]:
    filters = InboxFilters(status="", text=text)
    return list(inbox_conversations(user, filters).values_list("pk", flat=True))


@pytest.mark.parametrize(
    "typed", ["0170", "555-0170", "(614) 555-0170", "614.555.0170", "+1 614 555 0170", "16145550170"]
)
def test_any_part_of_the_phone_number_typed_any_way_finds_it(personas: Any, dana: Any, typed: str) -> None:
    assert _ids(personas.front_a, typed) == [dana.pk]


def test_a_phone_search_on_a_number_only_a_patient_has_finds_their_conversation(
    personas: Any, dana: Any
) -> None:
    PatientPhone.objects.create(patient=dana.patient, number="+16145557788")  # a second phone of Dana's
    assert _ids(personas.front_a, "557788") == [dana.pk]


@pytest.mark.parametrize("typed", ["whit", "Dana", "dana whit", "WHITFIELD"])
def test_a_name_by_its_start_finds_it(personas: Any, dana: Any, typed: str) -> None:
    assert _ids(personas.front_a, typed) == [dana.pk]


def test_too_few_digits_are_not_a_phone_search(personas: Any, dana: Any) -> None:
    assert _ids(personas.front_a, "017") == []


def test_message_text_is_found(personas: Any, dana: Any) -> None:
    assert _ids(personas.front_a, "prescription") == [dana.pk]
    assert _ids(personas.front_a, "renew prescription") == [dana.pk]
    assert _ids(personas.front_a, "refund") == []


def test_search_by_page_keeps_the_text_out_of_the_audit_trail(
    personas: Any, dana: Any, client_for: Any
) -> None:
    html = client_for(personas.front_a).get(reverse("messaging:inbox"), {"q": "555-0170"}).content.decode()
    assert "Dana Whitfield" in html and "wrong number" not in html
    entry = AuditEntry.objects.filter(action="search", object_type="messaging.conversation").latest("id")
    assert "search=phone" in entry.detail and "0170" not in entry.detail


def test_words_may_come_from_different_messages_of_the_conversation(personas: Any, dana: Any) -> None:
    texted_by(NUMBER, "Also the refill for my inhaler")
    assert _ids(personas.front_a, "renew inhaler") == [dana.pk]
    assert _ids(personas.front_a, "inhaler sorry") == []  # "sorry" is in another conversation


@pytest.mark.postgres
def test_postgres_searches_words_by_their_start_over_the_gin_index(personas: Any, dana: Any) -> None:
    assert connection.vendor == "postgresql"
    assert _ids(personas.front_a, "presc") == [dana.pk]  # a word's start
    assert _ids(personas.front_a, "friday renew") == [dana.pk]  # words in any order
    assert _ids(personas.front_a, "'; drop table") == []  # punctuation is never tsquery syntax
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'conversation_search_words'")
        (definition,) = cursor.fetchone()
        assert "gin" in definition and "messaging_conversationsearch" in definition
        # The conversations the condition matches, planned as if the table were large (no sequential or
        # plain index scan of the whole table): the text condition must be one the GIN index can answer.
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET enable_indexscan = off")
        from careline.messaging.queries.inbox_list import _text_condition

        condition: Any = _text_condition("prescription")
        subquery = condition.children[0][1]  # Q(pk__in=<the matching conversations>)
        sql, params = subquery.query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET enable_seqscan = on")
        cursor.execute("SET enable_indexscan = on")
    assert "conversation_search_words" in plan, plan


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite fallback")
def test_sqlite_finds_any_part_of_the_text(personas: Any, dana: Any) -> None:
    assert _ids(personas.front_a, "before fri") == [dana.pk]


@pytest.mark.parametrize("typed", ["0170", "(614) 555-0170", "555 0170"])
def test_a_query_of_only_digits_searches_phone_numbers_not_message_text(
    personas: Any, dana: Any, typed: str
) -> None:
    # Someone else wrote the same digits in a text: a number typed into search means a phone number.
    other = texted_by("+13125550888", "My code is 0170, call me at 614 555 0170")
    assert _ids(personas.front_a, typed) == [dana.pk]
    assert other.pk in _ids(personas.front_a, "code")  # words still search the text


def test_digits_with_words_still_search_the_text(personas: Any, dana: Any) -> None:
    other = texted_by("+13125550888", "Room 0170 please")
    assert _ids(personas.front_a, "room 0170") == [other.pk]


@pytest.mark.postgres
def test_postgres_answers_a_phone_fragment_from_trigram_indexes(personas: Any, dana: Any) -> None:
    assert connection.vendor == "postgresql"
    from careline.messaging.models import Conversation

    assert _ids(personas.front_a, "0170") == [dana.pk]
    lookups = {
        "conversation_contact_trigram": Conversation.objects.filter(contact__contains="0170").values("pk"),
        "patientphone_number_trigram": PatientPhone.objects.filter(number__contains="0170").values("pk"),
    }
    with connection.cursor() as cursor:
        # Planned as if the tables were large (no sequential or plain index scan of a whole table): each
        # part of the phone condition (`_phone_condition`, a union of the two) must be one a trigram index
        # answers.
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET enable_indexscan = off")
        try:
            for index, lookup in lookups.items():
                sql, params = lookup.query.sql_with_params()
                cursor.execute("EXPLAIN " + sql, params)
                plan = "\n".join(row[0] for row in cursor.fetchall())
                assert index in plan, plan
        finally:
            cursor.execute("SET enable_seqscan = on")
            cursor.execute("SET enable_indexscan = on")
