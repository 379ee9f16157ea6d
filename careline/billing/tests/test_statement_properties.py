"""Properties of statements for any sequence of billing operations (hypothesis): the lines of a statement sum
to its totals and its amount due, which is the balance due when every visit is ready; the PDF prints it."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings

from careline.billing.models import Payment, StatementLine
from careline.billing.money import format_money
from careline.billing.queries import patient_balance, statement_totals
from careline.billing.services.statements import statement_issue
from careline.billing.statement_pdf import statement_pdf
from careline.billing.tests.statement_support import pdf_text
from careline.billing.tests.support import billing_actor
from careline.billing.tests.test_money_properties import Account, _step, operations
from careline.testing.personas import Personas

pytestmark = pytest.mark.django_db


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_statement_lines_sum_to_its_totals_and_the_balance(
    personas: Personas, ops: list[tuple[Any, ...]]
) -> None:
    with transaction.atomic():
        account, payments = Account(), list[Payment]()
        for op in ops:
            _step(personas, account, payments, op)
        has_charge = any(op[0] == "charge" for op in ops)
        try:
            statement = statement_issue(patient=personas.pat, actor=billing_actor(personas))
        except ValidationError:
            assert not has_charge
            transaction.set_rollback(True)
            return
        lines = list(StatementLine.objects.filter(statement=statement))
        totals = statement_totals(lines)
        charges = [line for line in lines if line.kind == "charge"]
        assert totals.net == sum(line.amount_cents for line in lines) == account.net
        assert totals.charged == totals.insurance_paid + totals.insurance_adjusted + totals.patient_share
        assert sum(line.charged_cents for line in charges) == totals.charged
        assert totals.patient_share - totals.payments_and_credits == totals.net
        assert statement.amount_due_cents == totals.amount_due == patient_balance(personas.pat).due
        text = " ".join(pdf_text(statement_pdf(statement, pay_url="https://x.test/pay/t/")).split())
        assert f"Amount due {format_money(totals.amount_due, 'USD')}" in text
        transaction.set_rollback(True)
