"""Each conversation's search words on PostgreSQL (`ConversationSearch`), kept by triggers on messages: every
write path adds its words, a changed or deleted message rebuilds them, and the trigger's lock order never makes
two writers wait on each other in a circle."""

from __future__ import annotations

import importlib
import queue
import threading
import time
from typing import Any

import pytest
from django.db import connection, transaction

from careline.messaging.models import Conversation, ConversationSearch, Message, MessageKind, MessageState
from careline.messaging.tests.inbox_support import texted_by

pytestmark = pytest.mark.postgres

NUMBER = "+16145550170"
migration = importlib.import_module("careline.messaging.migrations.0019_conversation_search")


def _words(conversation: Conversation) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(tsvector_to_array(document), '{}') FROM messaging_conversationsearch"
            " WHERE conversation_id = %s",
            [conversation.pk],
        )
        row = cursor.fetchone()
    return set(row[0]) if row else set()


def _row_version(conversation: Conversation) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT xmin::text FROM messaging_conversationsearch WHERE conversation_id = %s",
            [conversation.pk],
        )
        return str(cursor.fetchone()[0])


def _message(conversation: Conversation, body: str) -> Message:
    return Message.objects.create(
        conversation=conversation,
        channel=conversation.channel,
        direction=Message.Direction.OUTBOUND,
        kind=MessageKind.STAFF,
        to_address=conversation.contact,
        body=body,
        state=MessageState.SENT,
    )


def test_a_message_adds_its_words_and_a_repeat_leaves_the_row_alone(db: Any) -> None:
    conversation = texted_by(NUMBER, "Could you renew my prescription?")
    assert _words(conversation) >= {"renew", "prescription", "could"}
    before = _row_version(conversation)
    _message(conversation, "Renew prescription")  # no new word: the row is not rewritten
    assert _row_version(conversation) == before
    _message(conversation, "Your refill is ready")
    assert _words(conversation) >= {"renew", "refill", "ready"}


def test_bulk_created_messages_are_searchable(db: Any) -> None:
    conversation = texted_by(NUMBER, "hello")
    fields = {
        "conversation": conversation,
        "channel": conversation.channel,
        "direction": Message.Direction.OUTBOUND,
        "kind": MessageKind.ANNOUNCEMENT,
        "to_address": conversation.contact,
        "state": MessageState.QUEUED,
    }
    Message.objects.bulk_create([Message(body="Flu shots on Saturday", **fields), Message(body="", **fields)])
    assert {"flu", "shots", "saturday", "hello"} <= _words(conversation)


def test_a_changed_or_deleted_message_rebuilds_the_words(db: Any) -> None:
    conversation = texted_by(NUMBER, "my insurance card")
    second = _message(conversation, "Your copay is due")
    Message.objects.filter(pk=second.pk).update(body="Your balance is due")
    assert "copay" not in _words(conversation) and "balance" in _words(conversation)
    Message.objects.filter(pk=second.pk).delete()
    assert "balance" not in _words(conversation) and "insurance" in _words(conversation)
    Message.objects.filter(conversation=conversation).delete()
    assert not ConversationSearch.objects.filter(conversation=conversation).exists()


def test_a_message_moved_to_another_conversation_takes_its_words(db: Any) -> None:
    first = texted_by(NUMBER, "wrong number")
    second = texted_by("+16145550171", "hello there")
    moved = _message(first, "Appointment tomorrow")
    Message.objects.filter(pk=moved.pk).update(conversation=second)
    assert "appointment" not in _words(first) and "appointment" in _words(second)


def test_deleting_a_conversation_takes_its_words(db: Any) -> None:
    conversation = texted_by(NUMBER, "hello")
    conversation.delete()
    assert ConversationSearch.objects.count() == 0


def test_the_backfill_builds_what_the_triggers_keep(db: Any) -> None:
    conversation = texted_by(NUMBER, "Could you renew my prescription?")
    _message(conversation, "Your refill is ready")
    kept = _words(conversation)
    ConversationSearch.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(migration.BACKFILL)
    assert _words(conversation) == kept


@pytest.mark.django_db(transaction=True)
def test_a_writer_holding_the_conversation_and_one_adding_a_message_do_not_deadlock() -> None:
    # The desk's transaction updates the conversation, then adds a message; meanwhile a second writer adds a
    # message and then updates the conversation. Had the trigger taken the words row first, the second writer
    # would hold it while waiting for the conversation, and the desk would wait for the words row: a circle
    # that PostgreSQL breaks by failing one of them.
    conversation = texted_by(NUMBER, "hello")
    pids: queue.Queue[int] = queue.Queue()
    failures: list[BaseException] = []

    def second_writer() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pids.put(cursor.fetchone()[0])
            with transaction.atomic():
                _message(conversation, "second writer word")
                Conversation.objects.filter(pk=conversation.pk).update(flagged=True)
        except BaseException as error:  # noqa: BLE001 - reported to the test below
            failures.append(error)
        finally:
            connection.close()

    with transaction.atomic():
        Conversation.objects.filter(pk=conversation.pk).update(assigned_to=None)
        thread = threading.Thread(target=second_writer)
        thread.start()
        pid = pids.get(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # until the second writer waits on a lock
            with connection.cursor() as cursor:
                cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
                if cursor.fetchone()[0] == "Lock":
                    break
            time.sleep(0.01)
        _message(conversation, "desk word")
    thread.join(timeout=30)
    assert failures == []
    assert {"second", "writer", "desk", "hello"} <= _words(conversation)
