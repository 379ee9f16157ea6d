"""Payment plans: instalments that sum exactly, payments filling them in order, reminders, misses and flags."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from careline.billing.models import (
    BillingTask,
    FollowUp,
    FollowUpState,
    InstalmentState,
    PaymentMethod,
    PlanState,
    TaskKind,
)
from careline.billing.services.collections import StopReason
from careline.billing.services.payments import payment_record
from careline.billing.services.plans import (
    add_months,
    instalment_amounts,
    instalment_texts_stale,
    plan_cancel,
    plan_create,
    plans_sweep,
)
from careline.billing.tests.collections_support import billing_consent, statement_issued
from careline.billing.tests.support import billing_actor, owing
from careline.messaging.models import Message, MessageState

NOON_CHICAGO = datetime(2030, 4, 1, 17, 0, tzinfo=UTC)
PAT = "+13125550111"

pytestmark = [pytest.mark.clock(NOON_CHICAGO), pytest.mark.usefixtures("clock", "default_followup_steps")]


@given(total=st.integers(min_value=1, max_value=100_000_000), count=st.integers(min_value=1, max_value=60))
def test_instalments_sum_exactly_and_differ_by_at_most_a_cent(total, count):
    if total < count:
        with pytest.raises(ValueError, match="at least one cent"):
            instalment_amounts(total, count)
        return
    parts = instalment_amounts(total, count)
    assert sum(parts) == total and len(parts) == count
    assert max(parts) - min(parts) <= 1 and parts == sorted(parts, reverse=True)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2030, 1, 31), 1, date(2030, 2, 28)),
        (date(2032, 1, 31), 1, date(2032, 2, 29)),
        (date(2030, 11, 15), 3, date(2031, 2, 15)),
        (date(2030, 5, 31), 0, date(2030, 5, 31)),
    ],
)
def test_months_keep_the_day_or_the_months_last(start, months, expected):
    assert add_months(start, months) == expected


def _plan(personas, cents=30001, count=3, first_due=date(2030, 4, 15)):
    owing(personas, cents)
    statement = statement_issued(personas.pat)
    return plan_create(
        statement=statement, instalments=count, first_due=first_due, actor=billing_actor(personas)
    )


def test_a_plan_splits_the_balance_and_stops_the_sequence(personas):
    plan = _plan(personas)
    parts = list(plan.instalments.order_by("number").values_list("amount_cents", "due_date"))
    assert parts == [
        (10001, date(2030, 4, 15)),
        (10000, date(2030, 5, 15)),
        (10000, date(2030, 6, 15)),
    ]
    assert {f.outcome for f in FollowUp.objects.filter(patient=personas.pat)} == {StopReason.PLAN}


@pytest.mark.parametrize(
    ("count", "first_due", "field"),
    [
        (1, date(2030, 4, 15), "instalments"),
        (13, date(2030, 4, 15), "instalments"),  # 300.01 / 25.00 = 12 at most
        (3, date(2030, 3, 31), "first_due"),
        (3, date(2030, 6, 15), "first_due"),
        ("3", date(2030, 4, 15), "instalments"),
    ],
)
def test_bad_plans_are_refused_and_change_nothing(personas, count, first_due, field):
    owing(personas, 30001)
    statement = statement_issued(personas.pat)
    with pytest.raises(ValidationError) as refused:
        plan_create(
            statement=statement, instalments=count, first_due=first_due, actor=billing_actor(personas)
        )
    assert field in refused.value.message_dict
    assert not statement.plans.exists()
    assert FollowUp.objects.filter(statement=statement, state=FollowUpState.PLANNED).count() == 4


def test_a_balance_too_small_for_a_plan_says_the_minimum(personas):
    owing(personas, 4000)
    statement = statement_issued(personas.pat)
    with pytest.raises(ValidationError) as refused:
        plan_create(
            statement=statement, instalments=2, first_due=date(2030, 4, 15), actor=billing_actor(personas)
        )
    assert "at least $25.00" in str(refused.value)


def test_one_active_plan_at_a_time(personas):
    plan = _plan(personas)
    with pytest.raises(ValidationError):
        plan_create(
            statement=plan.statement,
            instalments=2,
            first_due=date(2030, 4, 15),
            actor=billing_actor(personas),
        )


def test_payments_fill_instalments_in_order_and_complete_the_plan(personas):
    plan = _plan(personas)
    actor = billing_actor(personas)
    payment_record(patient=personas.pat, amount_cents=15000, method=PaymentMethod.CASH, actor=actor)
    rows = list(plan.instalments.order_by("number").values_list("paid_cents", "state"))
    assert rows == [(10001, "paid"), (4999, "due"), (0, "due")]
    payment_record(patient=personas.pat, amount_cents=15001, method=PaymentMethod.CASH, actor=actor)
    plan.refresh_from_db()
    assert plan.state == PlanState.COMPLETED
    assert set(plan.instalments.values_list("state", flat=True)) == {InstalmentState.PAID}


def test_reminder_three_days_before_then_missed_then_flagged(personas, clock):
    billing_consent(PAT)
    plan = _plan(personas)
    first = plan.instalments.get(number=1)
    clock.move_to(datetime(2030, 4, 11, 17, 0, tzinfo=UTC), tick=False)
    assert plans_sweep() == 0
    clock.move_to(datetime(2030, 4, 12, 17, 0, tzinfo=UTC), tick=False)
    assert plans_sweep() == 1
    assert plans_sweep() == 0
    due = Message.objects.get(subject_key=f"billing-instalment:{first.pk}")
    assert "due in 3 days" in due.body and "/pay/" in due.body and "100.01" not in due.body
    clock.move_to(datetime(2030, 4, 16, 17, 0, tzinfo=UTC), tick=False)
    assert plans_sweep() == 1
    first.refresh_from_db()
    assert first.state == InstalmentState.MISSED
    assert Message.objects.filter(subject_key=f"billing-instalment:{first.pk}").count() == 2
    assert not BillingTask.objects.exists()
    clock.move_to(datetime(2030, 4, 23, 17, 0, tzinfo=UTC), tick=False)
    plans_sweep()
    assert BillingTask.objects.get().kind == TaskKind.MISSED_INSTALMENT
    plans_sweep()
    assert BillingTask.objects.count() == 1
    # Paying the missed instalment closes its task and the flag's reason.
    payment_record(
        patient=personas.pat, amount_cents=10001, method=PaymentMethod.CASH, actor=billing_actor(personas)
    )
    assert BillingTask.objects.get().state == "done"


def test_paying_before_the_reminder_goes_withdraws_it(personas, clock):
    billing_consent(PAT)
    plan = _plan(personas)
    first = plan.instalments.get(number=1)
    clock.move_to(datetime(2030, 4, 13, 3, 0, tzinfo=UTC), tick=False)  # 22:00 in Chicago: held
    plans_sweep()
    message = Message.objects.get(subject_key=f"billing-instalment:{first.pk}")
    assert message.state == MessageState.QUEUED
    payment_record(
        patient=personas.pat, amount_cents=10001, method=PaymentMethod.CASH, actor=billing_actor(personas)
    )
    message.refresh_from_db()
    assert message.state == MessageState.CANCELLED
    assert instalment_texts_stale([message]) == {message.pk: "Instalment paid"}


def test_a_cancelled_plan_sends_nothing_more(personas, clock):
    billing_consent(PAT)
    plan = _plan(personas)
    plan_cancel(plan=plan, reason="Patient asked to pay in full", actor=billing_actor(personas))
    clock.move_to(datetime(2030, 4, 20, 17, 0, tzinfo=UTC), tick=False)
    assert plans_sweep() == 0
    with pytest.raises(ValidationError):
        plan_cancel(plan=plan, reason="again", actor=billing_actor(personas))
