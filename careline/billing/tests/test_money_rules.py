"""The money rules of billing: the derived balance, the services' refusals, the database's constraints and
when a visit is ready for a statement."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from careline.billing.events import ClaimStatusChanged, PaymentRecorded, RefundRecorded
from careline.billing.models import (
    Adjudication,
    AdjustmentKind,
    BalanceAdjustment,
    Charge,
    ClaimStatus,
    Payment,
    PaymentMethod,
    Refund,
)
from careline.billing.money import format_money, parse_money
from careline.billing.queries import patient_balance, visit_is_statement_ready
from careline.billing.services.charges import (
    AdjudicationLine,
    charge_add,
    claim_adjudicate,
    claim_appeal,
    claim_submit,
    visit_mark_self_pay,
)
from careline.billing.services.payments import balance_adjust, payment_record, refund_record
from careline.billing.tests.support import (
    VISIT_DAY,
    billing_actor,
    charge_on,
    owing,
    paid_claim,
    visit_of,
)
from careline.core.actor import Actor
from careline.core.events import Phase, subscribe, unsubscribe
from careline.core.models import AuditEntry
from careline.testing.personas import Personas

pytestmark = pytest.mark.django_db


def _pay(personas: Personas, cents: int, patient: Any = None) -> Payment:
    return payment_record(
        patient=patient or personas.pat,
        amount_cents=cents,
        method=PaymentMethod.CASH,
        actor=Actor.staff(personas.front_a),
    )


# --- the derived balance -----------------------------------------------------------------------------------


def test_a_patient_without_billing_rows_owes_nothing(personas: Personas) -> None:
    balance = patient_balance(personas.pat)
    assert (balance.responsibility, balance.paid, balance.due, balance.credit_balance) == (0, 0, 0, 0)
    assert balance.currency == "USD"


def test_the_balance_is_the_patients_share_of_final_claims_less_payments_credits_and_write_offs(
    personas: Personas,
) -> None:
    visit = visit_of(personas)
    charge = charge_on(personas, visit, 20_000)
    paid_claim(personas, visit, charge, copay=2_500, coinsurance=1_000, deductible=500)
    assert patient_balance(personas.pat).responsibility == 4_000
    payment = _pay(personas, 1_000)
    refund_record(payment=payment, amount_cents=300, reason="Overcharged", actor=billing_actor(personas))
    balance_adjust(
        patient=personas.pat,
        kind=AdjustmentKind.CREDIT,
        amount_cents=200,
        reason="Wait",
        actor=billing_actor(personas),
    )
    balance_adjust(
        patient=personas.pat,
        kind=AdjustmentKind.WRITE_OFF,
        amount_cents=100,
        reason="Hardship",
        actor=billing_actor(personas),
    )
    balance = patient_balance(personas.pat)
    assert (balance.paid, balance.refunded, balance.credits, balance.write_offs) == (1_000, 300, 200, 100)
    assert balance.due == 4_000 - 1_000 + 300 - 200 - 100


def test_a_claim_that_is_not_final_adds_nothing_and_an_appeal_takes_its_share_back_out(
    personas: Personas,
) -> None:
    visit = visit_of(personas)
    charge = charge_on(personas, visit, 10_000)
    claim = claim_submit(visit=visit, payer="Acme", member_id="M-1", actor=billing_actor(personas))
    assert patient_balance(personas.pat).responsibility == 0
    line = AdjudicationLine(
        charge=charge, allowed_cents=8_000, paid_by_insurer_cents=6_000, adjustment_cents=2_000,
        adjustment_reason_code="CO-45", deductible_cents=2_000,
    )  # fmt: skip
    claim_adjudicate(claim=claim, status=ClaimStatus.PAID, lines=[line], actor=billing_actor(personas))
    assert patient_balance(personas.pat).responsibility == 2_000
    claim_appeal(claim=claim, actor=billing_actor(personas))
    assert patient_balance(personas.pat).responsibility == 0


def test_a_self_pay_visit_makes_all_its_live_charges_the_patients(personas: Personas) -> None:
    visit = visit_of(personas)
    charge = charge_on(personas, visit, 5_000, units=2)
    charge_on(personas, visit, 1_500)
    paid_claim(personas, visit, charge, copay=1_000)  # what insurance said no longer counts
    Charge.objects.filter(pk=charge_on(personas, visit, 999).pk).update(voided=True)
    visit_mark_self_pay(visit=visit, reason="No insurance", actor=Actor.staff(personas.admin))
    assert patient_balance(personas.pat).responsibility == 10_000 + 1_500


def test_voided_charges_count_for_nothing(personas: Personas) -> None:
    visit = visit_of(personas)
    charge = charge_on(personas, visit, 10_000)
    paid_claim(personas, visit, charge, copay=2_000)
    Charge.objects.filter(pk=charge.pk).update(voided=True)
    assert patient_balance(personas.pat).responsibility == 0


def test_the_balance_is_one_query(personas: Personas, django_assert_num_queries: Any) -> None:
    owing(personas, 1_000)
    with django_assert_num_queries(1):
        assert patient_balance(personas.pat).due == 1_000


def test_another_patients_rows_never_reach_the_balance(personas: Personas) -> None:
    owing(personas, 1_000, patient=personas.quinn)
    _pay(personas, 400, patient=personas.quinn)
    assert patient_balance(personas.pat).due == 0
    assert patient_balance(personas.quinn).due == 600


def test_the_set_wise_balances_agree_with_each_patients_own(
    personas: Personas, django_assert_num_queries: Any
) -> None:
    from careline.billing.queries import balances_where
    from careline.patients.models import Patient

    visit = visit_of(personas)
    charge = charge_on(personas, visit, 20_000)
    paid_claim(personas, visit, charge, copay=2_500, coinsurance=1_000, deductible=500)
    payment = _pay(personas, 1_000)
    refund_record(payment=payment, amount_cents=300, reason="Overcharged", actor=billing_actor(personas))
    balance_adjust(
        patient=personas.pat, kind=AdjustmentKind.WRITE_OFF, amount_cents=100, reason="Hardship",
        actor=billing_actor(personas),
    )  # fmt: skip
    owing(personas, 1_000, patient=personas.quinn)
    _pay(personas, 1_000, patient=personas.quinn)
    balance_adjust(
        patient=personas.quinn, kind=AdjustmentKind.CREDIT, amount_cents=250, reason="Goodwill",
        actor=billing_actor(personas),
    )  # fmt: skip
    with django_assert_num_queries(6):
        balances = balances_where(Patient.objects.all())
    assert balances[personas.pat.pk] == patient_balance(personas.pat)
    assert balances[personas.quinn.pk] == patient_balance(personas.quinn)
    assert balances[personas.quinn.pk].credit_balance == 250
    others = Patient.objects.exclude(pk__in=[personas.pat.pk, personas.quinn.pk])
    assert all(patient_balance(p) == balances.get(p.pk, patient_balance(p)) for p in others)
    assert set(balances_where(Patient.objects.filter(pk=personas.quinn.pk))) == {personas.quinn.pk}


# --- payments, refunds and adjustments ---------------------------------------------------------------------


def test_a_payment_above_the_balance_due_is_refused_with_the_amount_due(personas: Personas) -> None:
    owing(personas, 2_500)
    with pytest.raises(ValidationError, match=r"more than the balance due \(\$25\.00\)"):
        _pay(personas, 2_501)
    assert not Payment.objects.exists()
    _pay(personas, 2_500)
    with pytest.raises(ValidationError, match="owes nothing"):
        _pay(personas, 1)


@pytest.mark.parametrize("cents", [0, -100, 10**12, "12", 1.5, True])
def test_an_amount_that_is_not_positive_whole_cents_is_refused(personas: Personas, cents: Any) -> None:
    owing(personas, 2_500)
    with pytest.raises(ValidationError):
        _pay(personas, cents)
    assert not Payment.objects.exists()


def test_a_refund_never_exceeds_what_is_left_of_its_payment(personas: Personas) -> None:
    owing(personas, 5_000)
    payment = _pay(personas, 3_000)
    actor = billing_actor(personas)
    refund_record(payment=payment, amount_cents=2_000, reason="Partly", actor=actor)
    with pytest.raises(ValidationError, match=r"Only \$10\.00 of this payment is left"):
        refund_record(payment=payment, amount_cents=1_001, reason="Too much", actor=actor)
    refund_record(payment=payment, amount_cents=1_000, reason="The rest", actor=actor)
    with pytest.raises(ValidationError, match="refunded in full"):
        refund_record(payment=payment, amount_cents=1, reason="Again", actor=actor)
    assert Refund.objects.filter(payment=payment).count() == 2


def test_a_refund_needs_a_reason(personas: Personas) -> None:
    owing(personas, 5_000)
    payment = _pay(personas, 3_000)
    with pytest.raises(ValidationError, match="Say why"):
        refund_record(payment=payment, amount_cents=100, reason="  ", actor=billing_actor(personas))


def test_a_write_off_cannot_exceed_the_balance_due_but_a_credit_may_leave_the_patient_in_credit(
    personas: Personas,
) -> None:
    owing(personas, 1_000)
    actor = billing_actor(personas)
    with pytest.raises(ValidationError, match="cannot be more than the balance due"):
        balance_adjust(
            patient=personas.pat, kind=AdjustmentKind.WRITE_OFF, amount_cents=1_001, reason="x", actor=actor
        )
    balance_adjust(
        patient=personas.pat, kind=AdjustmentKind.CREDIT, amount_cents=1_500, reason="Goodwill", actor=actor
    )
    balance = patient_balance(personas.pat)
    assert (balance.due, balance.credit_balance) == (0, 500)
    with pytest.raises(ValidationError):
        balance_adjust(patient=personas.pat, kind="discount", amount_cents=100, reason="x", actor=actor)


def test_a_provider_reference_records_one_payment(personas: Personas) -> None:
    owing(personas, 5_000)
    fields: dict[str, Any] = {
        "patient": personas.pat, "amount_cents": 1_000, "method": PaymentMethod.ONLINE, "provider": "test",
        "provider_reference": "pay_123", "actor": Actor.system("payments"),
    }  # fmt: skip
    first = payment_record(**fields)
    assert payment_record(**fields) == first
    with pytest.raises(ValidationError, match="another payment"):
        payment_record(**{**fields, "amount_cents": 900})
    assert Payment.objects.count() == 1


def test_each_service_writes_an_audit_entry_naming_the_patient(personas: Personas) -> None:
    before = AuditEntry.objects.count()
    visit = owing(personas, 1_000)  # a charge, a claim, its adjudication
    payment = _pay(personas, 500)
    refund_record(payment=payment, amount_cents=100, reason="x", actor=billing_actor(personas))
    balance_adjust(
        patient=personas.pat, kind="credit", amount_cents=100, reason="x", actor=billing_actor(personas)
    )
    visit_mark_self_pay(visit=visit, actor=Actor.staff(personas.admin))
    entries = list(AuditEntry.objects.order_by("pk")[before:])
    assert [e.object_type for e in entries] == [
        "billing.charge", "billing.claim", "billing.claim", "billing.payment", "billing.refund",
        "billing.balanceadjustment", "scheduling.appointment",
    ]  # fmt: skip
    assert {e.patient_id for e in entries} == {personas.pat.pk}
    assert entries[3].actor == personas.front_a


def test_payments_refunds_and_claim_answers_publish_events(
    personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    seen: list[Any] = []
    for event in (PaymentRecorded, RefundRecorded, ClaimStatusChanged):
        subscribe(event, seen.append, phase=Phase.AFTER_COMMIT)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            owing(personas, 1_000)
            payment = _pay(personas, 600)
            refund_record(payment=payment, amount_cents=100, reason="x", actor=billing_actor(personas))
    finally:
        for event in (PaymentRecorded, RefundRecorded, ClaimStatusChanged):
            unsubscribe(event, seen.append, phase=Phase.AFTER_COMMIT)
    claim_changed, paid, refunded = seen
    assert claim_changed.to_status == "paid" and claim_changed.is_final
    assert (paid.payment_id, paid.amount_cents, paid.currency, paid.method) == (
        payment.pk,
        600,
        "USD",
        "cash",
    )
    assert (refunded.payment_id, refunded.amount_cents) == (payment.pk, 100)


# --- adjudications add up -----------------------------------------------------------------------------------


def test_an_adjudication_whose_parts_do_not_add_up_is_refused(personas: Personas) -> None:
    visit = visit_of(personas)
    charge = charge_on(personas, visit, 10_000)
    claim = claim_submit(visit=visit, payer="Acme", member_id="M-1", actor=billing_actor(personas))
    short = AdjudicationLine(
        charge=charge, allowed_cents=8_000, paid_by_insurer_cents=8_000, adjustment_cents=1_000
    )
    with pytest.raises(ValidationError, match="add up to the charge"):
        claim_adjudicate(claim=claim, status="paid", lines=[short], actor=billing_actor(personas))
    split = AdjudicationLine(
        charge=charge, allowed_cents=8_000, paid_by_insurer_cents=7_000, adjustment_cents=2_000,
        adjustment_reason="Contract", copay_cents=500,
    )  # fmt: skip
    with pytest.raises(ValidationError, match="add up to the allowed amount"):
        claim_adjudicate(claim=claim, status="paid", lines=[split], actor=billing_actor(personas))
    assert not Adjudication.objects.exists()


def test_an_adjudication_of_another_visits_charge_is_refused(personas: Personas) -> None:
    visit, other = visit_of(personas), visit_of(personas, days=1)
    charge = charge_on(personas, other, 1_000)
    claim = claim_submit(visit=visit, payer="Acme", member_id="M-1", actor=billing_actor(personas))
    line = AdjudicationLine(charge=charge, allowed_cents=1_000, paid_by_insurer_cents=1_000)
    with pytest.raises(ValidationError, match="not on the claim's visit"):
        claim_adjudicate(claim=claim, status="paid", lines=[line], actor=billing_actor(personas))


def test_a_final_claim_is_answered_again_only_after_an_appeal(personas: Personas) -> None:
    visit = visit_of(personas)
    charge = charge_on(personas, visit, 1_000)
    claim = paid_claim(personas, visit, charge, status=ClaimStatus.DENIED)
    line = AdjudicationLine(charge=charge, allowed_cents=1_000, paid_by_insurer_cents=1_000)
    with pytest.raises(ValidationError, match="already final"):
        claim_adjudicate(claim=claim, status="paid", lines=[line], actor=billing_actor(personas))
    claim_appeal(claim=claim, actor=billing_actor(personas))
    claim = claim_adjudicate(claim=claim, status="paid", lines=[line], actor=billing_actor(personas))
    assert claim.status == "paid"
    assert Adjudication.objects.get().paid_by_insurer_cents == 1_000  # the answer replaced the first one


def test_a_charge_amount_is_units_times_unit_amount_and_an_external_id_is_recorded_once(
    personas: Personas,
) -> None:
    visit = visit_of(personas)
    charge = charge_add(
        patient=personas.pat, visit=visit, service_code="97110", description="Therapy", units=3,
        unit_amount_cents=4_250, service_date=VISIT_DAY, external_id="PM-1", actor=billing_actor(personas),
    )  # fmt: skip
    assert charge.amount_cents == 12_750
    with pytest.raises(ValidationError, match="external id"):
        charge_add(
            patient=personas.pat, visit=visit, service_code="97110", description="Therapy", units=1,
            unit_amount_cents=1, service_date=VISIT_DAY, external_id="PM-1", actor=billing_actor(personas),
        )  # fmt: skip
    with pytest.raises(ValidationError, match="another patient"):
        charge_add(
            patient=personas.quinn, visit=visit, service_code="97110", description="Therapy",
            unit_amount_cents=1, service_date=VISIT_DAY, actor=billing_actor(personas),
        )  # fmt: skip


# --- the database refuses what the services would ----------------------------------------------------------


def _refused(create: Any) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def test_the_database_refuses_negative_amounts_and_inconsistent_lines(personas: Personas) -> None:
    visit = visit_of(personas)
    charge = charge_on(personas, visit, 1_000)
    claim = claim_submit(visit=visit, payer="Acme", member_id="M-1", actor=billing_actor(personas))
    base = {
        "patient": personas.pat,
        "visit": visit,
        "service_code": "x",
        "description": "x",
        "service_date": VISIT_DAY,
    }
    _refused(lambda: Charge.objects.create(**base, units=1, unit_amount_cents=-5, amount_cents=-5))
    _refused(lambda: Charge.objects.create(**base, units=2, unit_amount_cents=5, amount_cents=11))
    _refused(lambda: Charge.objects.create(**base, units=0, unit_amount_cents=5, amount_cents=0))
    now = visit.starts_at
    _refused(
        lambda: Payment.objects.create(patient=personas.pat, amount_cents=0, method="cash", received_at=now)
    )
    _refused(
        lambda: Payment.objects.create(patient=personas.pat, amount_cents=-1, method="cash", received_at=now)
    )
    _refused(
        lambda: Payment.objects.create(patient=personas.pat, amount_cents=1, method="barter", received_at=now)
    )
    payment = Payment.objects.create(patient=personas.pat, amount_cents=100, method="cash", received_at=now)
    _refused(
        lambda: Refund.objects.create(
            payment=payment, patient=personas.pat, amount_cents=-1, reason="x", refunded_at=now
        )
    )
    _refused(
        lambda: BalanceAdjustment.objects.create(
            patient=personas.pat, kind="credit", amount_cents=-1, reason="x", created_at=now
        )
    )
    adjudication = {"claim": claim, "charge": charge, "adjudicated_at": now}
    _refused(
        lambda: Adjudication.objects.create(
            **adjudication, allowed_cents=100, paid_by_insurer_cents=-10, copay_cents=110
        )
    )
    _refused(
        lambda: Adjudication.objects.create(
            **adjudication, allowed_cents=100, paid_by_insurer_cents=50, copay_cents=10
        )
    )
    fields = {"provider": "test", "provider_reference": "r-1", "method": "online", "received_at": now}
    Payment.objects.create(patient=personas.pat, amount_cents=1, **fields)
    _refused(lambda: Payment.objects.create(patient=personas.pat, amount_cents=2, **fields))
    # Without a reference, any number of payments (the uniqueness applies only when one is present).
    Payment.objects.create(patient=personas.pat, amount_cents=1, method="cash", received_at=now)
    Payment.objects.create(patient=personas.pat, amount_cents=1, method="cash", received_at=now)


# --- statement readiness --------------------------------------------------------------------------------------


def test_a_visit_is_ready_for_a_statement_when_every_claim_on_it_is_final(personas: Personas) -> None:
    visit = visit_of(personas)
    assert not visit_is_statement_ready(visit)  # no claim yet
    charge = charge_on(personas, visit, 1_000)
    first = paid_claim(personas, visit, charge)
    assert visit_is_statement_ready(visit)
    second = claim_submit(visit=visit, payer="Second payer", member_id="S-1", actor=billing_actor(personas))
    assert not visit_is_statement_ready(visit)  # a secondary claim still open
    claim_adjudicate(claim=second, status=ClaimStatus.DENIED, lines=[], actor=billing_actor(personas))
    assert visit_is_statement_ready(visit)
    claim_appeal(claim=first, actor=billing_actor(personas))
    assert not visit_is_statement_ready(visit)  # an appeal is not final


def test_a_self_pay_visit_is_ready_whatever_its_claims(personas: Personas) -> None:
    visit = visit_of(personas)
    claim_submit(visit=visit, payer="Acme", member_id="M-1", actor=billing_actor(personas))
    assert not visit_is_statement_ready(visit)
    visit_mark_self_pay(visit=visit, actor=Actor.staff(personas.admin))
    assert visit_is_statement_ready(visit)
    assert visit_mark_self_pay(visit=visit, actor=Actor.staff(personas.admin)).visit_id == visit.pk  # once


def test_claim_final_rule() -> None:
    from careline.billing.models import Claim

    assert [Claim(status=s).is_final for s in ClaimStatus.values] == [False, True, True, False]


# --- money as people type and read it ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cents"), [("25", 2_500), ("25.5", 2_550), ("$1,234.56", 123_456), (" 0.01 ", 1), ("0", 0)]
)
def test_amounts_typed_as_money_become_cents(text: str, cents: int) -> None:
    assert parse_money(text) == cents


@pytest.mark.parametrize("text", ["", "abc", "1.234", "NaN", "Infinity", "1e400", "99999999999"])
def test_amounts_that_are_not_money_are_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_money(text)


def test_amounts_are_written_with_the_currency() -> None:
    assert format_money(123_456, "USD") == "$1,234.56"
    assert format_money(-500, "USD") == "-$5.00"
    assert format_money(5, "CHF") == "0.05 CHF"
