"""The rule per purpose: billing and marketing texts need the consent recorded for that purpose."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from careline.core.actor import Actor
from careline.messaging.channels.base import SendResult
from careline.messaging.channels.simulator.type import SimulatorType
from careline.messaging.models import Message, MessageKind, MessageState, SuppressionReason
from careline.messaging.outbound.bulk import OutboundItem, messages_send_bulk
from careline.messaging.outbound.compose import message_send
from careline.messaging.outbound.dispatch import messages_dispatch
from careline.messaging.outbound.policy import PURPOSE_RULES, purpose_needs_consent
from careline.messaging.services.channels import simulator_channel
from careline.patients.models import PURPOSE_CONSENT_KINDS, ConsentKind, ConsentMethod, Purpose
from careline.patients.services.registry import (
    CONSENT_GIVEN,
    CONSENT_REVOKED,
    consent_purpose_given,
    consent_record,
    consent_state,
)

NOON_CHICAGO = datetime(2026, 3, 4, 18, 0, tzinfo=UTC)
PAT = "+13125550111"  # the personas' Pat: general text consent given, nothing per purpose


pytestmark = [pytest.mark.clock(NOON_CHICAGO), pytest.mark.usefixtures("clock")]


@pytest.fixture
def sent(monkeypatch):
    calls: list[int] = []

    def send(self, channel, message):
        calls.append(message.pk)
        return SendResult(provider_message_id=f"SIM-{message.pk}")

    monkeypatch.setattr(SimulatorType, "send", send)
    return calls


def _record(kind: str, clock) -> None:
    clock.shift(timedelta(seconds=1))  # the ledger orders by time: each entry later than the last
    consent_record(
        phone_number=PAT, kind=kind, method=ConsentMethod.STAFF, patient=None, actor=Actor.system("test")
    )


def _text(personas, purpose: str, kind: str = MessageKind.AUTOMATED) -> Message:
    return message_send(body="A note from the clinic", patient=personas.pat, kind=kind, purpose=purpose)


def test_every_purpose_has_a_rule_and_the_ledger_has_kinds_for_those_needing_consent():
    assert set(PURPOSE_RULES) == set(Purpose.values)
    assert {p for p in Purpose.values if purpose_needs_consent(p)} == {Purpose.BILLING, Purpose.MARKETING}
    assert set(PURPOSE_CONSENT_KINDS) == {Purpose.BILLING, Purpose.MARKETING}


@pytest.mark.parametrize("purpose", [Purpose.BILLING, Purpose.MARKETING])
@pytest.mark.parametrize("kind", [MessageKind.AUTOMATED, MessageKind.STAFF])
def test_billing_and_marketing_texts_without_their_consent_are_suppressed(personas, purpose, kind):
    message = _text(personas, purpose, kind)
    assert (message.state, message.suppression_reason) == (
        MessageState.SUPPRESSED,
        SuppressionReason.NO_PURPOSE_CONSENT,
    )


@pytest.mark.parametrize("purpose", [Purpose.APPOINTMENTS, Purpose.CARE, Purpose.GENERAL])
def test_appointment_care_and_general_texts_keep_the_general_rule(personas, purpose):
    assert _text(personas, purpose).state == MessageState.QUEUED


def test_billing_consent_lets_billing_texts_go_and_not_marketing_ones(personas, clock, sent):
    _record(ConsentKind.BILLING_GIVEN, clock)
    billing = _text(personas, Purpose.BILLING)
    marketing = _text(personas, Purpose.MARKETING)
    assert billing.state == MessageState.QUEUED
    assert marketing.suppression_reason == SuppressionReason.NO_PURPOSE_CONSENT
    assert messages_dispatch([billing.pk]) == {billing.pk: MessageState.SENT}
    assert sent == [billing.pk]


def test_purpose_consent_does_not_replace_the_general_consent_of_automated_texts(personas, clock):
    consent_record(
        phone_number="+14155550122",
        kind=ConsentKind.BILLING_GIVEN,
        method=ConsentMethod.STAFF,
        patient=None,
        actor=Actor.system("test"),
    )  # Quinn: consent for billing texts, no text-message consent at all
    message = message_send(
        body="Statement", patient=personas.quinn, kind=MessageKind.AUTOMATED, purpose="billing"
    )
    assert message.suppression_reason == SuppressionReason.NO_CONSENT


def test_withdrawing_purpose_consent_or_a_stop_ends_it_and_a_later_start_does_not_restore_it(personas, clock):
    _record(ConsentKind.MARKETING_GIVEN, clock)
    assert _text(personas, Purpose.MARKETING).state == MessageState.QUEUED
    _record(ConsentKind.MARKETING_REVOKED, clock)
    assert _text(personas, Purpose.MARKETING).suppression_reason == SuppressionReason.NO_PURPOSE_CONSENT
    _record(ConsentKind.MARKETING_GIVEN, clock)
    _record(ConsentKind.REVOKED, clock)  # STOP
    _record(ConsentKind.GIVEN, clock)  # START
    assert consent_state(PAT) == CONSENT_GIVEN
    assert _text(personas, Purpose.MARKETING).suppression_reason == SuppressionReason.NO_PURPOSE_CONSENT
    assert _text(personas, Purpose.APPOINTMENTS).state == MessageState.QUEUED


def test_purpose_entries_never_change_the_general_consent_state(personas, clock):
    _record(ConsentKind.REVOKED, clock)
    _record(ConsentKind.BILLING_GIVEN, clock)
    assert consent_state(PAT) == CONSENT_REVOKED  # a billing entry after STOP is not a START
    assert _text(personas, Purpose.BILLING).suppression_reason == SuppressionReason.OPTED_OUT


def test_purpose_consent_is_checked_again_at_dispatch_one_message_and_in_a_batch(personas, clock, sent):
    _record(ConsentKind.BILLING_GIVEN, clock)
    one = _text(personas, Purpose.BILLING)
    batch = [_text(personas, Purpose.BILLING), _text(personas, Purpose.GENERAL)]
    _record(ConsentKind.BILLING_REVOKED, clock)
    assert messages_dispatch([one.pk]) == {one.pk: MessageState.SUPPRESSED}
    results = messages_dispatch([m.pk for m in batch])
    assert results == {batch[0].pk: MessageState.SUPPRESSED, batch[1].pk: MessageState.SENT}
    assert Message.objects.get(pk=one.pk).suppression_reason == SuppressionReason.NO_PURPOSE_CONSENT
    assert sent == [batch[1].pk]


def test_a_bulk_send_applies_the_rule_of_its_purpose_in_one_extra_query(personas, clock):
    _record(ConsentKind.BILLING_GIVEN, clock)
    items = [
        OutboundItem(body="Statement", idempotency_key="bill:1", patient=personas.pat),
        OutboundItem(body="Statement", idempotency_key="bill:2", patient=personas.quinn),
    ]
    channel = simulator_channel()
    with CaptureQueriesContext(connection) as queries:
        results = messages_send_bulk(items=items, channel=channel, kind=MessageKind.STAFF, purpose="billing")
    pat, quinn = results["bill:1"], results["bill:2"]
    assert isinstance(pat, Message) and isinstance(quinn, Message)
    assert pat.state == MessageState.QUEUED
    assert quinn.suppression_reason == SuppressionReason.NO_PURPOSE_CONSENT
    # Reads of the ledger (the conversations' UPDATE also names it: their "opted out" column is set there).
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    assert sum("patients_consentevent" in sql for sql in reads) == 2


def test_the_ledger_takes_purpose_entries_and_refuses_unknown_kinds(personas, clock):
    _record(ConsentKind.BILLING_GIVEN, clock)
    assert consent_purpose_given([PAT, "+14155550122"], Purpose.BILLING) == {PAT}
    assert consent_purpose_given([PAT], Purpose.APPOINTMENTS) == {PAT}  # no purpose consent needed
    with pytest.raises(ValidationError):
        consent_record(
            phone_number=PAT,
            kind="billing",
            method=ConsentMethod.STAFF,
            patient=None,
            actor=Actor.system("test"),
        )
