"""Properties of the import's money checks (hypothesis): any split of a charge among payers and the patient.

For any charge and any amounts a practice-management export may carry for its adjudication, the import is
accepted exactly when allowed + adjustment = the charge and insurer + copay + coinsurance + deductible =
allowed; when it is, the patient's balance is their share; when not, nothing is written. Across two claims,
adjudications of one charge are accepted only while they add up to no more than the charge.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from careline.billing.models import Adjudication, Charge
from careline.billing.queries import patient_balance
from careline.billing.services.imports import (
    AdjudicationRecord,
    ChargeRecord,
    ClaimRecord,
    ImportRefused,
    Records,
    billing_import_apply,
)
from careline.billing.tests.import_support import imported_visit
from careline.billing.tests.support import VISIT_DAY, billing_actor
from careline.testing.personas import Personas

pytestmark = pytest.mark.django_db


def _refusal(records: Records, personas: Personas) -> list[tuple[object, str]] | None:
    """The (ref, field) of each problem when the import of RECORDS is refused, None when it is applied."""
    try:
        billing_import_apply(records=records, actor=billing_actor(personas))
    except ImportRefused as refused:
        return [(e.ref, e.field) for e in refused.errors]
    return None


cents = st.integers(min_value=0, max_value=50_000)


def _records(
    mrn: str, amount: int, parts: dict[str, Any], *, second: dict[str, Any] | None = None
) -> Records:
    charge = ChargeRecord(
        ref=2, external_id="CHG-1", mrn=mrn, appointment_id="APT-1", service_code="99213",
        description="Office visit", unit_amount_cents=amount, service_date=VISIT_DAY,
    )  # fmt: skip
    claims = [
        ClaimRecord(
            ref=3,
            external_id="CLM-1",
            mrn=mrn,
            appointment_id="APT-1",
            payer="A",
            member_id="1",
            status="paid",
        )
    ]
    adjudications = [
        AdjudicationRecord(ref=4, claim_id="CLM-1", charge_id="CHG-1", adjustment_reason="x", **parts)
    ]
    if second is not None:
        claims.append(ClaimRecord(ref=5, external_id="CLM-2", mrn=mrn, appointment_id="APT-1", payer="B", member_id="2", status="paid"))  # fmt: skip
        adjudications.append(AdjudicationRecord(ref=6, claim_id="CLM-2", charge_id="CHG-1", adjustment_reason="x", **second))  # fmt: skip
    return Records(charges=[charge], claims=claims, adjudications=adjudications)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    amount=st.integers(min_value=1, max_value=100_000),
    allowed=cents, insurer=cents, copay=cents, coinsurance=cents, deductible=cents, exact=st.booleans(),
)  # fmt: skip
def test_an_adjudication_is_accepted_exactly_when_its_parts_add_up(
    personas: Personas,
    amount: int, allowed: int, insurer: int, copay: int, coinsurance: int, deductible: int, exact: bool,
) -> None:  # fmt: skip
    if exact:  # half the examples make the parts add up, so both outcomes are exercised
        allowed = min(allowed, amount)
        copay, coinsurance, deductible = (min(x, allowed // 3) for x in (copay, coinsurance, deductible))
        insurer = allowed - copay - coinsurance - deductible
    adjustment = max(amount - allowed, 0)
    parts = {
        "allowed_cents": allowed, "paid_by_insurer_cents": insurer, "adjustment_cents": adjustment,
        "copay_cents": copay, "coinsurance_cents": coinsurance, "deductible_cents": deductible,
    }  # fmt: skip
    adds_up = allowed + adjustment == amount and insurer + copay + coinsurance + deductible == allowed
    with transaction.atomic():
        imported_visit(personas)
        problems = _refusal(_records(personas.pat.mrn, amount, parts), personas)
        if problems is not None:
            assert not adds_up, problems
            assert not Charge.objects.exists()
        else:
            assert adds_up
            balance = patient_balance(personas.pat)
            assert balance.due == copay + coinsurance + deductible <= amount
        transaction.set_rollback(True)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    amount=st.integers(min_value=2, max_value=100_000), first=st.integers(0, 100), second=st.integers(0, 100)
)
def test_two_claims_never_adjudicate_more_than_the_charge(
    personas: Personas, amount: int, first: int, second: int
) -> None:
    def split(percent: int) -> dict[str, int]:
        allowed = amount * percent // 100
        return {
            "allowed_cents": allowed,
            "paid_by_insurer_cents": allowed,
            "adjustment_cents": amount - allowed,
        }

    one, two = split(first), split(second)
    with transaction.atomic():
        imported_visit(personas)
        records = _records(personas.pat.mrn, amount, one, second=two)
        problems = _refusal(records, personas)
        if problems is not None:
            assert one["allowed_cents"] + two["allowed_cents"] > amount
            assert problems == [(6, "allowed_cents")]
        else:
            assert one["allowed_cents"] + two["allowed_cents"] <= amount
            assert sum(a.allowed_cents for a in Adjudication.objects.all()) <= amount
        transaction.set_rollback(True)
