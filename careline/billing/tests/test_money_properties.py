"""Properties of the money arithmetic for any sequence of billing operations (hypothesis).

Each example runs a random sequence of charges (adjudicated or self-pay), payments, refunds of any payment,
credits and write-offs through the services, beside a plain model of the account, and checks after every step:
the balance is responsibility - payments + refunds - credits - write-offs; it goes below zero only by a credit;
the refunds of a payment never exceed it; the lines of the ledger add up to its totals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from careline.billing.models import Adjudication, Charge, Payment, Refund
from careline.billing.queries import patient_balance, patient_ledger, responsibility_adjudications
from careline.billing.services.charges import (
    AdjudicationLine,
    claim_adjudicate,
    claim_submit,
    visit_mark_self_pay,
)
from careline.billing.services.payments import balance_adjust, payment_record, refund_record
from careline.billing.tests.support import billing_actor, charge_on, visit_of
from careline.core.actor import Actor
from careline.testing.personas import Personas

pytestmark = pytest.mark.django_db

amounts = st.integers(min_value=1, max_value=60_000)
operations = st.lists(
    st.one_of(
        # A charge of UNITS x UNIT; self-pay, or adjudicated with the patient owing TENTHS/10 of it.
        st.tuples(
            st.just("charge"),
            st.booleans(),
            st.integers(min_value=1, max_value=4),
            st.integers(min_value=0, max_value=20_000),
            st.integers(min_value=0, max_value=10),
        ),
        st.tuples(st.just("pay"), amounts),
        st.tuples(st.just("refund"), st.integers(min_value=0, max_value=5), amounts),
        st.tuples(st.just("credit"), amounts),
        st.tuples(st.just("write_off"), amounts),
    ),
    max_size=10,
)


@dataclass
class Account:
    """The plain model: what the services should make of the same operations."""

    responsibility: int = 0
    payments: list[int] = field(default_factory=list)
    refunds: list[int] = field(default_factory=list)  # refunded per payment, by index
    credits: int = 0
    write_offs: int = 0

    @property
    def net(self) -> int:
        return self.responsibility - sum(self.payments) + sum(self.refunds) - self.credits - self.write_offs


def _charge(personas: Personas, account: Account, self_pay: bool, units: int, unit: int, tenths: int) -> None:
    visit = visit_of(personas)
    charge = charge_on(personas, visit, unit, units=units)
    amount = units * unit
    assert charge.amount_cents == amount
    if self_pay:
        visit_mark_self_pay(visit=visit, actor=Actor.staff(personas.admin))
        account.responsibility += amount
        return
    share = amount * tenths // 10
    copay, coinsurance = share // 3, share // 3
    line = AdjudicationLine(
        charge=charge, allowed_cents=amount, paid_by_insurer_cents=amount - share, copay_cents=copay,
        coinsurance_cents=coinsurance, deductible_cents=share - copay - coinsurance,
    )  # fmt: skip
    claim = claim_submit(visit=visit, payer="Acme", member_id="M-1", actor=billing_actor(personas))
    claim_adjudicate(claim=claim, status="paid", lines=[line], actor=billing_actor(personas))
    account.responsibility += share


def _step(personas: Personas, account: Account, payments: list[Payment], op: tuple[Any, ...]) -> None:
    """Run OP through the services; the model says whether it must be refused."""
    actor = billing_actor(personas)
    kind = op[0]
    if kind == "charge":
        _charge(personas, account, *op[1:])
    elif kind == "pay":
        allowed = op[1] <= max(account.net, 0)
        try:
            payments.append(
                payment_record(patient=personas.pat, amount_cents=op[1], method="cash", actor=actor)
            )
        except ValidationError:
            assert not allowed, f"payment of {op[1]} refused with {account.net} due"
        else:
            assert allowed, f"payment of {op[1]} taken with {account.net} due"
            account.payments.append(op[1])
            account.refunds.append(0)
    elif kind == "refund" and payments:
        index = op[1] % len(payments)
        allowed = op[2] <= account.payments[index] - account.refunds[index]
        try:
            refund_record(payment=payments[index], amount_cents=op[2], reason="Property", actor=actor)
        except ValidationError:
            assert not allowed
        else:
            assert allowed, "a refund beyond what is left of the payment was taken"
            account.refunds[index] += op[2]
    elif kind == "credit":
        balance_adjust(
            patient=personas.pat, kind="credit", amount_cents=op[1], reason="Property", actor=actor
        )
        account.credits += op[1]
    elif kind == "write_off":
        allowed = op[1] <= max(account.net, 0)
        try:
            balance_adjust(
                patient=personas.pat, kind="write_off", amount_cents=op[1], reason="x", actor=actor
            )
        except ValidationError:
            assert not allowed
        else:
            assert allowed
            account.write_offs += op[1]


def _check(personas: Personas, account: Account) -> None:
    balance = patient_balance(personas.pat)
    assert balance.responsibility == account.responsibility
    assert (balance.paid, balance.refunded) == (sum(account.payments), sum(account.refunds))
    assert (balance.credits, balance.write_offs) == (account.credits, account.write_offs)
    assert balance.net == (
        balance.responsibility - balance.paid + balance.refunded - balance.credits - balance.write_offs
    )
    assert balance.net == account.net
    # Never below zero unless by a credit: payments and write-offs stop at the amount due.
    assert balance.net >= -balance.credits
    assert balance.due >= 0 and balance.credit_balance >= 0
    assert balance.due - balance.credit_balance == balance.net
    # Refunds never exceed their payment.
    for payment in Payment.objects.filter(patient=personas.pat):
        assert sum(r.amount_cents for r in Refund.objects.filter(payment=payment)) <= payment.amount_cents


def _check_lines_add_up(personas: Personas) -> None:
    """The ledger's lines add up to the balance's totals."""
    ledger = patient_ledger(personas.pat)
    adjudicated = sum(
        a.patient_responsibility_cents
        for a in responsibility_adjudications().filter(charge__patient=personas.pat)
    )
    self_pay = sum(entry.charged_cents for entry in ledger.visits if entry.self_pay is not None)
    assert adjudicated + self_pay == ledger.balance.responsibility
    assert sum(p.amount_cents for p in ledger.payments) == ledger.balance.paid
    assert sum(r.amount_cents for p in ledger.payments for r in p.refunds.all()) == ledger.balance.refunded
    for entry in ledger.visits:
        assert entry.charged_cents == sum(c.amount_cents for c in Charge.objects.filter(visit=entry.visit))
    for adjudication in Adjudication.objects.filter(charge__patient=personas.pat).select_related("charge"):
        assert adjudication.allowed_cents + adjudication.adjustment_cents == adjudication.charge.amount_cents
        assert adjudication.paid_by_insurer_cents + adjudication.patient_responsibility_cents == (
            adjudication.allowed_cents
        )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_the_balance_follows_any_sequence_of_operations(
    personas: Personas, ops: list[tuple[Any, ...]]
) -> None:
    with transaction.atomic():
        account, payments = Account(), list[Payment]()
        for op in ops:
            _step(personas, account, payments, op)
            _check(personas, account)
        _check_lines_add_up(personas)
        transaction.set_rollback(True)


@settings(max_examples=60, deadline=None)
@given(
    responsibility=st.integers(0, 10**8),
    paid=st.integers(0, 10**8),
    refunded=st.integers(0, 10**8),
    credits=st.integers(0, 10**8),
    write_offs=st.integers(0, 10**8),
)
def test_due_and_credit_are_the_two_sides_of_the_net(
    responsibility: int, paid: int, refunded: int, credits: int, write_offs: int
) -> None:
    from careline.billing.queries import Balance

    balance = Balance(responsibility, paid, refunded, credits, write_offs, "USD")
    assert balance.net == responsibility - paid + refunded - credits - write_offs
    assert min(balance.due, balance.credit_balance) == 0
    assert balance.due - balance.credit_balance == balance.net
