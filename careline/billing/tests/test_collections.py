"""The collections sequence: planned from a statement, acting when due, stopped the moment it no longer applies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from careline.billing.models import (
    BillingTask,
    FollowUp,
    FollowUpAction,
    FollowUpState,
    FollowUpStep,
    PaymentMethod,
    StatementState,
    TaskKind,
)
from careline.billing.services.collections import (
    StopReason,
    dispute_open,
    dispute_resolve,
    followup_texts_stale,
    followups_sweep,
)
from careline.billing.services.payments import payment_record
from careline.billing.tests.collections_support import billing_consent, statement_issued
from careline.billing.tests.support import billing_actor, owing
from careline.messaging.channels.base import SendResult
from careline.messaging.channels.simulator.type import SimulatorType
from careline.messaging.models import Message, MessageState
from careline.messaging.outbound.dispatch import messages_dispatch
from careline.patients.models import PatientStatus

NOON_CHICAGO = datetime(2030, 4, 1, 17, 0, tzinfo=UTC)
PAT = "+13125550111"

pytestmark = [pytest.mark.clock(NOON_CHICAGO), pytest.mark.usefixtures("clock", "default_followup_steps")]


@pytest.fixture
def sent(monkeypatch):
    calls: list[int] = []

    def send(self, channel, message):
        calls.append(message.pk)
        return SendResult(provider_message_id=f"SIM-{message.pk}")

    monkeypatch.setattr(SimulatorType, "send", send)
    return calls


def _steps(statement):
    return {f.action: f for f in FollowUp.objects.filter(statement=statement)}


def _to_day(clock, days: int, hours: int = 0) -> None:
    clock.move_to(NOON_CHICAGO + timedelta(days=days, hours=hours), tick=False)


def test_a_statement_plans_the_default_sequence(personas):
    owing(personas, 4000)
    statement = statement_issued(personas.pat)
    steps = _steps(statement)
    assert {a: f.days_after for a, f in steps.items()} == {
        FollowUpAction.REMINDER: 15,
        FollowUpAction.SECOND_CHANNEL: 30,
        FollowUpAction.CALL_TASK: 60,
        FollowUpAction.REVIEW: 90,
    }
    assert steps[FollowUpAction.REMINDER].due_at == statement.issued_at + timedelta(days=15)


def test_administrators_steps_decide_the_plan(personas):
    FollowUpStep.objects.filter(action=FollowUpAction.REVIEW).update(is_active=False)
    FollowUpStep.objects.create(days_after=7, action=FollowUpAction.REMINDER)
    owing(personas, 4000)
    plan = sorted(
        (f.days_after, f.action) for f in FollowUp.objects.filter(statement=statement_issued(personas.pat))
    )
    assert plan == [(7, "reminder"), (15, "reminder"), (30, "second_channel"), (60, "call_task")]


def test_nothing_is_planned_for_a_statement_with_nothing_due(personas):
    statement = statement_issued(personas.pat)
    assert statement.amount_due_cents == 0
    assert not FollowUp.objects.filter(statement=statement).exists()


def test_nothing_acts_before_its_day(personas, clock):
    owing(personas, 4000)
    statement_issued(personas.pat)
    _to_day(clock, 14, 23)
    assert followups_sweep() == 0
    assert not Message.objects.filter(purpose="billing").exists()


def test_reminder_by_text_with_billing_consent_names_only_the_clinic_and_link(personas, clock, sent):
    billing_consent(PAT)
    owing(personas, 4000)
    statement = statement_issued(personas.pat)
    _to_day(clock, 15)
    assert followups_sweep() == 1
    reminder = _steps(statement)[FollowUpAction.REMINDER]
    assert reminder.state == FollowUpState.DONE and reminder.outcome == "Text reminder queued"
    message = Message.objects.get(pk=reminder.message_id)
    assert message.channel.type_code == "simulator" or "sms" in message.channel.type.capabilities
    assert "/pay/" in message.body and "reminder" in message.body
    assert "40.00" not in message.body and "Office visit" not in message.body and "99213" not in message.body
    assert message.purpose == "billing"


def test_reminder_without_billing_consent_goes_by_email(personas, clock):
    owing(personas, 4000)
    statement = statement_issued(personas.pat)  # went by text, but Pat never gave billing consent since
    _to_day(clock, 15)
    followups_sweep()
    message = Message.objects.get(pk=_steps(statement)[FollowUpAction.REMINDER].message_id)
    assert message.to_address == "pat@example.test" and message.subject


def test_no_channel_at_all_is_recorded_not_hidden(personas, clock):
    personas.pat.email = ""
    personas.pat.save()
    owing(personas, 4000)
    statement = statement_issued(personas.pat, channel="mail")
    _to_day(clock, 15)
    followups_sweep()
    reminder = _steps(statement)[FollowUpAction.REMINDER]
    assert reminder.state == FollowUpState.DONE and reminder.message_id is None
    assert reminder.outcome.startswith("No text")


def test_second_channel_is_the_other_one(personas, clock):
    billing_consent(PAT)
    owing(personas, 4000)
    statement = statement_issued(personas.pat, channel="sms")
    _to_day(clock, 30)
    followups_sweep()
    steps = _steps(statement)
    first = Message.objects.get(pk=steps[FollowUpAction.REMINDER].message_id)
    second = Message.objects.get(pk=steps[FollowUpAction.SECOND_CHANNEL].message_id)
    assert first.to_address == PAT and second.to_address == "pat@example.test"


def test_call_task_then_review_once_each(personas, clock):
    owing(personas, 4000)
    statement = statement_issued(personas.pat)
    _to_day(clock, 91)
    followups_sweep()
    followups_sweep()
    tasks = BillingTask.objects.filter(patient=personas.pat, statement=statement)
    assert sorted(t.kind for t in tasks) == [TaskKind.CALL, TaskKind.REVIEW]


def test_full_payment_stops_the_sequence_at_once(personas, clock):
    owing(personas, 4000)
    statement = statement_issued(personas.pat)
    payment_record(
        patient=personas.pat, amount_cents=4000, method=PaymentMethod.CASH, actor=billing_actor(personas)
    )
    assert {f.state for f in FollowUp.objects.filter(statement=statement)} == {FollowUpState.STOPPED}
    assert {f.outcome for f in FollowUp.objects.filter(statement=statement)} == {StopReason.PAID}
    _to_day(clock, 91)
    assert followups_sweep() == 0
    assert not BillingTask.objects.exists()


def test_partial_payment_does_not_stop_it(personas, clock):
    owing(personas, 4000)
    statement = statement_issued(personas.pat)
    payment_record(
        patient=personas.pat, amount_cents=1000, method=PaymentMethod.CASH, actor=billing_actor(personas)
    )
    assert FollowUp.objects.filter(statement=statement, state=FollowUpState.PLANNED).count() == 4


def test_a_payment_racing_a_reminder_wins(personas, clock, sent):
    """The reminder was written (held for the night) before the payment; it never goes after the payment."""
    billing_consent(PAT)
    owing(personas, 4000)
    statement = statement_issued(personas.pat)
    _to_day(clock, 15, hours=10)  # 22:00 in Chicago: the reminder is held for quiet hours
    followups_sweep()
    message = Message.objects.get(pk=_steps(statement)[FollowUpAction.REMINDER].message_id)
    assert message.state == MessageState.QUEUED and message.held_for_quiet_hours
    payment_record(
        patient=personas.pat, amount_cents=4000, method=PaymentMethod.CASH, actor=billing_actor(personas)
    )
    message.refresh_from_db()
    assert message.state == MessageState.CANCELLED
    _to_day(clock, 16)
    messages_dispatch([message.pk])
    assert sent == []


def test_the_dispatchers_last_check_refuses_a_reminder_once_paid(personas, clock):
    """A reminder claimed by a worker at the moment of the payment is caught by the subject check."""
    billing_consent(PAT)
    owing(personas, 4000)
    statement = statement_issued(personas.pat)
    _to_day(clock, 15)
    followups_sweep()
    message = Message.objects.get(pk=_steps(statement)[FollowUpAction.REMINDER].message_id)
    assert followup_texts_stale([message]) == {}
    Message.objects.filter(pk=message.pk).update(state=MessageState.SENDING)  # a worker holds it
    payment_record(
        patient=personas.pat, amount_cents=4000, method=PaymentMethod.CASH, actor=billing_actor(personas)
    )
    assert followup_texts_stale([message]) == {message.pk: StopReason.PAID}


def test_a_dispute_stops_it_and_resolving_closes_the_task(personas, clock):
    owing(personas, 4000)
    statement = statement_issued(personas.pat)
    dispute = dispute_open(
        patient=personas.pat,
        statement=statement,
        reason="Says the visit was covered",
        actor=billing_actor(personas),
    )
    assert {f.outcome for f in FollowUp.objects.filter(statement=statement)} == {StopReason.DISPUTE}
    task = BillingTask.objects.get(kind=TaskKind.DISPUTE)
    dispute_resolve(dispute=dispute, resolution="Insurer confirmed the copay", actor=billing_actor(personas))
    task.refresh_from_db()
    assert task.state == "done"


def test_a_second_open_dispute_is_refused(personas):
    from django.core.exceptions import ValidationError

    dispute_open(patient=personas.pat, reason="Wrong amount", actor=billing_actor(personas))
    with pytest.raises(ValidationError):
        dispute_open(patient=personas.pat, reason="Again", actor=billing_actor(personas))


def test_never_to_a_deceased_patient(personas, clock):
    owing(personas, 4000)
    statement = statement_issued(personas.pat)
    personas.pat.status = PatientStatus.DECEASED
    personas.pat.save()
    _to_day(clock, 91)
    followups_sweep()
    assert {f.outcome for f in FollowUp.objects.filter(statement=statement)} == {StopReason.DECEASED}
    assert not Message.objects.filter(purpose="billing").exists() and not BillingTask.objects.exists()


def test_a_newer_statement_replaces_the_older_sequence(personas):
    owing(personas, 4000)
    first = statement_issued(personas.pat)
    second = statement_issued(personas.pat)
    first.refresh_from_db()
    assert first.state == StatementState.SUPERSEDED
    assert {f.outcome for f in FollowUp.objects.filter(statement=first)} == {StopReason.SUPERSEDED}
    assert FollowUp.objects.filter(statement=second, state=FollowUpState.PLANNED).count() == 4


def test_opting_out_without_email_stops_the_reminders_not_the_call(
    personas, clock, django_capture_on_commit_callbacks
):
    personas.pat.email = ""
    personas.pat.save()
    billing_consent(PAT)
    owing(personas, 4000)
    statement = statement_issued(personas.pat)
    clock.shift(timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        billing_consent(PAT, given=False)
    steps = _steps(statement)
    assert steps[FollowUpAction.REMINDER].state == FollowUpState.STOPPED
    assert steps[FollowUpAction.SECOND_CHANNEL].outcome == StopReason.OPTED_OUT
    assert steps[FollowUpAction.CALL_TASK].state == FollowUpState.PLANNED
