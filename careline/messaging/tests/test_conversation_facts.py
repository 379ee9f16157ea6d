"""The inbox list's row facts kept as columns (careline/messaging/conversation_facts.py) stay equal to the old
derived computation (correlated subqueries over messages and the consent ledger) after any sequence of the
changes that move them, each through its real path: patient texts (STOP and START too), staff texts, reminders
and announcements, delivery reports, a dispatch that suppresses, cancels and withdrawals, the consent ledger,
portal messages. And the migration's backfill gives the same values."""

from __future__ import annotations

import importlib
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.db import transaction
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

ACTIONS = (
    "patient_text",
    "patient_stop",
    "patient_start",
    "staff_text",
    "staff_scheduled",
    "reminder",
    "announcement",
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
# Mostly one number, so changes meet in one conversation (a staff text, then its cancel); sometimes the other.
operations = st.lists(
    st.tuples(st.sampled_from(ACTIONS), st.sampled_from((PAT_NUMBER, PAT_NUMBER, PAT_NUMBER, QUINN_NUMBER))),
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


def _step(personas: Personas, traveller: Any, action: str, number: str, n: int) -> None:
    patient = personas.pat if number == PAT_NUMBER else personas.quinn
    front = personas.front_a if number == PAT_NUMBER else personas.front_b
    if action == "patient_text":
        texted_by(number, "Can I come earlier?")
    elif action == "patient_stop":
        texted_by(number, "STOP")
    elif action == "patient_start":
        texted_by(number, "START")
    elif action == "staff_text":
        message_send(body="We will call you", patient=patient, kind=MessageKind.STAFF, author=front)
    elif action == "staff_scheduled":
        later = NOON_CHICAGO + timedelta(days=2)
        message_send(body="Checking in", patient=patient, author=front, send_at=later, subject_key=SUBJECT)
    elif action == "reminder":
        message_send(body="Visit tomorrow", patient=patient, kind=MessageKind.AUTOMATED, subject_key=SUBJECT)
    elif action == "announcement":
        item = OutboundItem(body="We are closed Monday", idempotency_key=f"ann-{n}", patient=patient)
        messages_send_bulk(items=[item], channel=simulator_channel(), kind=MessageKind.ANNOUNCEMENT)
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
