"""The inbox list's row facts kept as columns (careline/messaging/conversation_facts.py) stay equal to the old
derived computation (correlated subqueries over messages and the consent ledger) after any sequence of the
changes that move them, each through its real path: patient texts (STOP and START too), staff texts, reminders
and announcements, bulk sends that make conversations (inserted with their facts, not rewritten), delivery
reports, a dispatch that suppresses, cancels and withdrawals, the consent ledger, portal messages. And the
migration's backfill gives the same values."""

from __future__ import annotations

import importlib
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from careline.core.actor import Actor
from careline.messaging.channels.portal.conversations import portal_automatic_answer, portal_patient_message
from careline.messaging.conversation_facts import (
    FACT_FIELDS,
    conversation_facts_refresh,
    derived_facts,
    stored_facts,
)
from careline.messaging.models import Conversation, Message, MessageKind, MessageState
from careline.messaging.outbound.bulk import OutboundItem, messages_send_bulk
from careline.messaging.outbound.compose import message_cancel, message_send, messages_withdraw_for_subject
from careline.messaging.outbound.dispatch import message_dispatch
from careline.messaging.outbound.status import message_status_apply
from careline.messaging.services.channels import simulator_channel
from careline.messaging.tests.inbox_support import NOON_CHICAGO, PAT_NUMBER, QUINN_NUMBER, texted_by
from careline.patients.models import ConsentKind, ConsentMethod
from careline.patients.services.registry import consent_record
from careline.testing.personas import Personas

pytestmark = [pytest.mark.clock(NOON_CHICAGO), pytest.mark.usefixtures("clock")]

SUBJECT = "appointment:1"
STRANGER_NUMBER = "+13125550177"  # no patient's: texted by address, STOP and START like any number

ACTIONS = (
    "patient_text",
    "patient_stop",
    "patient_start",
    "staff_text",
    "staff_scheduled",
    "reminder",
    "announcement",
    "bulk_announcement",
    "bulk_automated",
    "bulk_staff",
    "report_failed",
    "report_undelivered",
    "report_delivered",
    "dispatch",
    "cancel",
    "withdraw",
    "revoke",
    "give",
    "portal_patient",
    "portal_answer",
    "later",
)
# Mostly one number, so changes meet in one conversation (a staff text, then its cancel); sometimes another.
operations = st.lists(
    st.tuples(
        st.sampled_from(ACTIONS),
        st.sampled_from((PAT_NUMBER, PAT_NUMBER, PAT_NUMBER, QUINN_NUMBER, STRANGER_NUMBER)),
    ),
    min_size=1,
    max_size=10,
)


def _conversation(number: str) -> Conversation | None:
    return Conversation.objects.filter(channel=simulator_channel(), contact=number).first()


def _outbound(number: str, states: tuple[str, ...]) -> Message | None:
    conversation = _conversation(number)
    if conversation is None:
        return None
    return (
        Message.objects.filter(
            conversation=conversation, direction=Message.Direction.OUTBOUND, state__in=states
        )
        .order_by("-created_at", "-id")
        .first()
    )


def _report(number: str, state: str) -> None:
    message = _outbound(number, (MessageState.QUEUED, MessageState.SENDING, MessageState.SENT))
    if message is not None:
        message_status_apply(
            channel=message.channel, provider_message_id=f"SM{message.pk}", message_id=message.pk, state=state
        )


def _bulk_send(personas: Personas, kind: str, n: int) -> None:
    """One bulk send to every number at once: the conversations not made yet are made by it (with their row
    facts written at insert), the others rewritten."""
    items = [
        OutboundItem(body="We are closed Monday", idempotency_key=f"bulk-{n}-pat", patient=personas.pat),
        OutboundItem(body="We are closed Monday", idempotency_key=f"bulk-{n}-quinn", patient=personas.quinn),
        OutboundItem(body="We are closed Monday", idempotency_key=f"bulk-{n}-x", to_address=STRANGER_NUMBER),
    ]
    author = personas.front_a if kind == MessageKind.STAFF else None
    messages_send_bulk(items=items, channel=simulator_channel(), kind=kind, author=author)


def _step(personas: Personas, traveller: Any, action: str, number: str, n: int) -> None:
    patient = {PAT_NUMBER: personas.pat, QUINN_NUMBER: personas.quinn}.get(number)
    to_address = number if patient is None else None
    front = personas.front_a if number == PAT_NUMBER else personas.front_b
    if action == "patient_text":
        texted_by(number, "Can I come earlier?")
    elif action == "patient_stop":
        texted_by(number, "STOP")
    elif action == "patient_start":
        texted_by(number, "START")
    elif action == "staff_text":
        message_send(
            body="We will call you",
            patient=patient,
            to_address=to_address,
            kind=MessageKind.STAFF,
            author=front,
        )
    elif action == "staff_scheduled":
        later = NOON_CHICAGO + timedelta(days=2)
        message_send(
            body="Checking in",
            patient=patient,
            to_address=to_address,
            author=front,
            send_at=later,
            subject_key=SUBJECT,
        )
    elif action == "reminder":
        message_send(
            body="Visit tomorrow",
            patient=patient,
            to_address=to_address,
            kind=MessageKind.AUTOMATED,
            subject_key=SUBJECT,
        )
    elif action == "announcement":
        item = OutboundItem(
            body="We are closed Monday", idempotency_key=f"ann-{n}", patient=patient, to_address=to_address
        )
        messages_send_bulk(items=[item], channel=simulator_channel(), kind=MessageKind.ANNOUNCEMENT)
    elif action.startswith("bulk_"):
        kinds = {
            "bulk_announcement": MessageKind.ANNOUNCEMENT,
            "bulk_automated": MessageKind.AUTOMATED,
            "bulk_staff": MessageKind.STAFF,
        }
        _bulk_send(personas, kinds[action], n)
    elif action == "report_failed":
        _report(number, MessageState.FAILED)
    elif action == "report_undelivered":
        _report(number, MessageState.UNDELIVERED)
    elif action == "report_delivered":
        _report(number, MessageState.DELIVERED)
    elif action == "dispatch":  # suppressed when the number opted out meanwhile, else sent
        message = _outbound(number, (MessageState.QUEUED,))
        if message is not None and not message.scheduled:
            message_dispatch(message.pk)
    elif action == "cancel":
        message = _outbound(number, (MessageState.QUEUED,))
        if message is not None:
            message_cancel(message=message, actor=Actor.staff(front))
    elif action == "withdraw":
        messages_withdraw_for_subject(subject_key=SUBJECT, reason="The visit moved")
    elif action in ("revoke", "give"):
        consent_record(
            phone_number=number,
            kind=ConsentKind.REVOKED if action == "revoke" else ConsentKind.GIVEN,
            method=ConsentMethod.STAFF,
            patient=patient,
            actor=Actor.staff(front),
        )
    elif action in ("portal_patient", "portal_answer"):
        conversation = _conversation(number)
        if conversation is not None:  # the same writes on any conversation (the portal's own is alike)
            if action == "portal_patient":
                portal_patient_message(conversation=conversation, body="A question from the portal")
            else:
                portal_automatic_answer(conversation=conversation, body="Our hours are 8 to 5")
    elif action == "later":
        traveller.shift(timedelta(minutes=3))
    traveller.shift(timedelta(seconds=1))


def _assert_in_step() -> None:
    rows = Conversation.objects.all()
    assert stored_facts(rows) == derived_facts(rows)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_the_fact_columns_follow_any_sequence_of_changes(
    personas: Personas, clock: Any, ops: list[tuple[str, str]]
) -> None:
    clock.move_to(NOON_CHICAGO, tick=False)
    with transaction.atomic():
        for n, (action, number) in enumerate(ops):
            _step(personas, clock, action, number, n)
            _assert_in_step()
        transaction.set_rollback(True)


def test_each_fact_is_reached_through_the_services(personas: Personas, clock: Any) -> None:
    """The property above is not vacuous: every fact becomes true through these paths."""
    texted_by(PAT_NUMBER, "Hello")
    clock.shift(timedelta(minutes=1))
    message = message_send(body="We will call", patient=personas.pat, author=personas.front_a)
    message_status_apply(
        channel=message.channel, provider_message_id="SM1", message_id=message.pk, state="undelivered"
    )
    consent_record(
        phone_number=PAT_NUMBER,
        kind=ConsentKind.REVOKED,
        method=ConsentMethod.STAFF,
        patient=personas.pat,
        actor=Actor.staff(personas.front_a),
    )
    conversation = Conversation.objects.get(contact=PAT_NUMBER)
    assert (conversation.waiting_on_patient, conversation.last_out_failed, conversation.opted_out) == (
        True,
        True,
        True,
    )
    _assert_in_step()
    clock.shift(timedelta(minutes=1))
    texted_by(PAT_NUMBER, "Thanks")  # the patient answered: no longer waiting on them
    assert Conversation.objects.get(pk=conversation.pk).waiting_on_patient is False
    _assert_in_step()


def test_the_backfill_and_the_refresh_agree_with_the_derived_facts(personas: Personas, clock: Any) -> None:
    texted_by(PAT_NUMBER, "Hello")
    texted_by(QUINN_NUMBER, "Hi")
    clock.shift(timedelta(minutes=1))
    for patient, author in ((personas.pat, personas.front_a), (personas.quinn, personas.front_b)):
        message_send(body="We will call", patient=patient, author=author)
    consent_record(
        phone_number=QUINN_NUMBER,
        kind=ConsentKind.REVOKED,
        method=ConsentMethod.STAFF,
        patient=personas.quinn,
        actor=Actor.staff(personas.front_b),
    )
    failed = Message.objects.filter(to_address=PAT_NUMBER, direction="out").latest("id")
    Message.objects.filter(pk=failed.pk).update(state=MessageState.FAILED)  # written directly
    expected = derived_facts(Conversation.objects.all())
    assert {fact for facts in expected.values() for fact, value in facts.items() if value} == set(FACT_FIELDS)
    Conversation.objects.update(waiting_on_patient=False, last_out_failed=False, opted_out=False)
    migration = importlib.import_module("careline.messaging.migrations.0018_conversation_row_facts")
    migration.backfill(django_apps, None)
    assert stored_facts(Conversation.objects.all()) == expected
    Conversation.objects.update(**dict.fromkeys(FACT_FIELDS, False))
    assert conversation_facts_refresh(Conversation.objects.all()) == 2
    assert stored_facts(Conversation.objects.all()) == expected


def _conversation_updates(work: Any) -> dict[str, set[int]]:
    """Each UPDATE of conversations WORK issues, with the ids it names (its integer parameters)."""
    updates: dict[str, set[int]] = {}

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.startswith('UPDATE "messaging_conversation"'):
            ids = updates.setdefault(sql, set())
            for param in params or ():
                values = param if isinstance(param, list | tuple) else [param]
                ids.update(v for v in values if isinstance(v, int) and not isinstance(v, bool))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        work()
    return updates


def _conversation_ids() -> set[int]:
    return set(Conversation.objects.values_list("pk", flat=True))


def test_a_bulk_send_inserts_new_conversations_with_their_facts_and_rewrites_only_the_others(
    personas: Personas, clock: Any
) -> None:
    texted_by(PAT_NUMBER, "Hello")  # Pat's conversation exists
    consent_record(
        phone_number=STRANGER_NUMBER,
        kind=ConsentKind.REVOKED,
        method=ConsentMethod.STAFF,
        patient=None,
        actor=Actor.staff(personas.front_a),
    )
    clock.shift(timedelta(minutes=1))
    existing = Conversation.objects.get(contact=PAT_NUMBER)
    updates = _conversation_updates(lambda: _bulk_send(personas, MessageKind.ANNOUNCEMENT, 1))
    made = Conversation.objects.exclude(pk=existing.pk)
    assert sorted(made.values_list("contact", flat=True)) == sorted([QUINN_NUMBER, STRANGER_NUMBER])
    # The new ones were inserted as the UPDATE would leave them.
    assert set().union(*updates.values()) & _conversation_ids() == {existing.pk}
    assert not [sql for sql in updates if "SELECT" in sql]  # no correlated subquery per conversation
    assert Conversation.objects.get(contact=STRANGER_NUMBER).opted_out
    moments = set(Conversation.objects.values_list("last_message_at", "updated_at"))
    assert len(moments) == 1 and None not in moments.pop()  # the batch's one moment, new or not
    _assert_in_step()


def test_staff_texts_in_new_conversations_are_rewritten_to_wait_on_the_patient(
    personas: Personas, clock: Any
) -> None:
    updates = _conversation_updates(lambda: _bulk_send(personas, MessageKind.STAFF, 1))
    conversations = Conversation.objects.all()
    assert set().union(*updates.values()) & _conversation_ids() == _conversation_ids()
    assert all(conversations.values_list("waiting_on_patient", flat=True))
    _assert_in_step()
