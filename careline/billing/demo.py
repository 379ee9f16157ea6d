"""The demo clinic's billing: charges for completed visits, claims in every state, a few payments, a refund,
a credit and a write-off, so the ledger and the Balance cards have real content in `make run`.

Everything goes through billing's services (so the amounts obey the same rules and the audit trail shows who
recorded what: the demo's billing user, or its administrator for the self-pay visit). Called by
`careline/demo/services.py` after the schedule is loaded; loading adds nothing when charges already exist.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from careline.billing.models import Charge, ClaimStatus, PaymentMethod
from careline.billing.queries import patient_balance
from careline.billing.services.charges import (
    AdjudicationLine,
    charge_add,
    claim_adjudicate,
    claim_appeal,
    claim_submit,
    visit_mark_self_pay,
)
from careline.billing.services.payments import balance_adjust, payment_record, refund_record
from careline.core.actor import Actor
from careline.scheduling.models import Appointment, AppointmentStatus

# How many completed visits are billed.
DEMO_BILLED_VISITS = 40


@dataclass(frozen=True)
class ServiceLine:
    code: str
    description: str
    unit_cents: int
    units: int = 1


# What each demo visit type bills (codes in the style of a practice-management system; fake prices).
SERVICES: dict[str, tuple[ServiceLine, ...]] = {
    "Annual physical": (ServiceLine("99396", "Preventive visit, established patient", 22_000),),
    "Follow-up visit": (ServiceLine("99213", "Office visit, established patient", 13_500),),
    "New patient visit": (
        ServiceLine("99204", "Office visit, new patient", 26_000),
        ServiceLine("36415", "Blood draw", 1_800),
    ),
    "Physiotherapy": (ServiceLine("97110", "Therapeutic exercise, 15 minutes", 4_500, units=3),),
    "Flu shot": (
        ServiceLine("90686", "Influenza vaccine", 3_500),
        ServiceLine("90471", "Vaccine administration", 2_500),
    ),
}
DEFAULT_SERVICE = (ServiceLine("99212", "Office visit, short", 9_000),)
PAYERS = (("Blue Harbor Health", "BHH"), ("Lakeshore Mutual", "LSM"), ("Prairie Care Plan", "PCP"))

# The fate of visit i's claim, by i modulo the list: mostly paid, some denied, waiting or appealed.
OUTCOMES = ("paid", "paid", "paid", "denied", "paid", "submitted", "paid", "appealed")


def _charges(visit: Appointment, actor: Actor) -> list[Charge]:
    lines = SERVICES.get(visit.appointment_type.name, DEFAULT_SERVICE)
    service_date = timezone.localtime(visit.starts_at, visit.location.zone).date()
    return [
        charge_add(
            patient=visit.patient,
            visit=visit,
            service_code=line.code,
            description=line.description,
            units=line.units,
            unit_amount_cents=line.unit_cents,
            service_date=service_date,
            external_id=f"demo-{visit.pk}-{line.code}",
            actor=actor,
        )
        for line in lines
    ]


def _paid_line(charge: Charge, rng: random.Random) -> AdjudicationLine:
    """The payer allows 70-90% of CHARGE; the patient owes a copay, maybe coinsurance and some deductible."""
    allowed = charge.amount_cents * rng.randint(70, 90) // 100
    copay = min(allowed, rng.choice((0, 2_000, 2_500, 4_000)))
    coinsurance = (allowed - copay) * rng.choice((0, 10, 20)) // 100
    deductible = min(allowed - copay - coinsurance, rng.choice((0, 0, 5_000)))
    return AdjudicationLine(
        charge=charge,
        allowed_cents=allowed,
        paid_by_insurer_cents=allowed - copay - coinsurance - deductible,
        adjustment_cents=charge.amount_cents - allowed,
        adjustment_reason_code="CO-45",
        adjustment_reason="Charge exceeds the contracted fee",
        copay_cents=copay,
        coinsurance_cents=coinsurance,
        deductible_cents=deductible,
    )


def _denied_line(charge: Charge) -> AdjudicationLine:
    return AdjudicationLine(
        charge=charge,
        allowed_cents=0,
        paid_by_insurer_cents=0,
        adjustment_cents=charge.amount_cents,
        adjustment_reason_code="CO-197",
        adjustment_reason="Authorization absent",
    )


def _claim(visit: Appointment, charges: list[Charge], outcome: str, actor: Actor, rng: random.Random) -> None:
    payer, prefix = PAYERS[visit.patient_id % len(PAYERS)]
    claim = claim_submit(
        visit=visit,
        payer=payer,
        member_id=f"{prefix}{visit.patient_id:07d}",
        submitted_at=visit.ends_at,
        actor=actor,
    )
    if outcome == "submitted":
        return
    if outcome in ("denied", "appealed"):
        claim_adjudicate(
            claim=claim, status=ClaimStatus.DENIED, lines=[_denied_line(c) for c in charges], actor=actor
        )
        if outcome == "appealed":
            claim_appeal(claim=claim, actor=actor)
        return
    claim_adjudicate(
        claim=claim, status=ClaimStatus.PAID, lines=[_paid_line(c, rng) for c in charges], actor=actor
    )


def billing_seed_demo(*, admin: Any, billing: Any, seed: int) -> dict[str, int]:
    """Bill the demo's completed visits (once): claims in every state, payments, a refund, a credit, a write-off."""
    if Charge.objects.exists():
        return {}
    rng = random.Random(seed)
    actor, admin_actor = Actor.staff(billing), Actor.staff(admin)
    visits = list(
        Appointment.objects.filter(status=AppointmentStatus.COMPLETED)
        .select_related("appointment_type", "location", "patient")
        .order_by("starts_at", "pk")[:DEMO_BILLED_VISITS]
    )
    counts = {"billing_charges": 0, "billing_claims": 0, "billing_payments": 0, "billing_self_pay_visits": 0}
    owing = []
    for index, visit in enumerate(visits):
        charges = _charges(visit, actor)
        counts["billing_charges"] += len(charges)
        if index % 13 == 12:
            visit_mark_self_pay(visit=visit, reason="No insurance on file", actor=admin_actor)
            counts["billing_self_pay_visits"] += 1
        else:
            _claim(visit, charges, OUTCOMES[index % len(OUTCOMES)], actor, rng)
            counts["billing_claims"] += 1
        owing.append(visit.patient)
    methods = (PaymentMethod.CASH, PaymentMethod.CHECK, PaymentMethod.CARD_TERMINAL)
    payments = []
    for index, patient in enumerate(dict.fromkeys(owing)):
        due = patient_balance(patient).due
        if not due or index % 3 == 2:
            continue  # some balances stay open
        amount = due if index % 2 == 0 else max(due // 2, 1)
        payments.append(
            payment_record(
                patient=patient,
                amount_cents=amount,
                method=methods[index % len(methods)],
                reference=f"{1000 + index}" if methods[index % len(methods)] == PaymentMethod.CHECK else "",
                actor=actor,
            )
        )
    counts["billing_payments"] = len(payments) + _online_payment(
        open_balances=[p for p in dict.fromkeys(owing) if patient_balance(p).due]
    )
    if payments:
        first = payments[0]
        refund_record(
            payment=first,
            amount_cents=min(first.amount_cents, 1_000),
            reason="Copay charged twice",
            actor=actor,
        )
    open_balances = [p for p in dict.fromkeys(owing) if patient_balance(p).due]
    if open_balances:
        patient = open_balances[-1]
        balance_adjust(
            patient=patient,
            kind="write_off",
            amount_cents=min(patient_balance(patient).due, 2_500),
            reason="Financial hardship",
            actor=actor,
        )
    if len(open_balances) > 1:
        balance_adjust(
            patient=open_balances[0],
            kind="credit",
            amount_cents=1_500,
            reason="Long wait at check-in",
            actor=actor,
        )
    counts |= _statements_and_collections(actor=actor)
    return counts


# How long ago the demo's statements were issued, in turn: a few fresh, most with follow-ups under way.
STATEMENT_AGES_DAYS = (2, 20, 35, 65, 95, 10)


def _statements_and_collections(*, actor: Actor) -> dict[str, int]:
    """Statements for the balances still open (backdated, so the follow-up sequence is under way), one
    payment plan, one dispute, and the follow-ups that are due acted on (texts, call tasks, a review)."""
    from datetime import timedelta

    from django.core.exceptions import ValidationError

    from careline.billing.models import FollowUp, Statement
    from careline.billing.services.collections import dispute_open, followups_sweep
    from careline.billing.services.plans import plan_create
    from careline.billing.services.statements import statement_issue

    owing = [
        p
        for p in {c.patient for c in Charge.objects.select_related("patient").order_by("patient_id")}
        if patient_balance(p).due
    ]
    guarantors = 0
    holder = owing[3] if len(owing) > 3 else None
    dependant = next(
        (p for p in owing[4:] if holder and p.primary_location_id == holder.primary_location_id), None
    )
    if holder is not None and dependant is not None:
        from careline.billing.services.guarantors import guarantor_set

        # A parent who pays for a child: one combined statement, the child's lines labelled by name.
        guarantor_set(
            patient=dependant, guarantor=holder, starts_on=timezone.localdate() - timedelta(days=120),
            relationship="parent", actor=actor,
        )  # fmt: skip
        owing.remove(dependant)
        guarantors = 1
    statements = []
    for patient in owing:
        try:
            statements.append(statement_issue(patient=patient, actor=actor))
        except ValidationError:
            continue  # nothing of theirs is ready yet (claims still open)
    now = timezone.now()
    for index, statement in enumerate(statements):
        age = timedelta(days=STATEMENT_AGES_DAYS[index % len(STATEMENT_AGES_DAYS)])
        Statement.objects.filter(pk=statement.pk).update(
            issued_at=now - age,
            statement_date=(now - age).date(),
            due_date=(now - age).date() + timedelta(days=30),
        )
        for followup in FollowUp.objects.filter(statement=statement):
            FollowUp.objects.filter(pk=followup.pk).update(
                due_at=now - age + timedelta(days=followup.days_after)
            )
    counts = {
        "billing_statements": len(statements), "billing_plans": 0, "billing_disputes": 0,
        "billing_guarantors": guarantors,
    }  # fmt: skip
    if len(statements) > 2:
        # A plan on the statement that owes the most (others may owe less than two minimum instalments).
        for plan_statement in sorted(statements[:2] + statements[3:], key=lambda st: -st.amount_due_cents):
            try:
                plan_create(
                    statement=plan_statement,
                    instalments=2,
                    first_due=timezone.localdate() + timedelta(days=10),
                    actor=actor,
                )
            except ValidationError:
                continue  # paid since, or below two minimum instalments
            counts["billing_plans"] = 1
            break
        dispute_open(
            patient=statements[2].patient,
            statement=statements[2],
            reason="Says the visit should have been covered by insurance",
            actor=actor,
        )
        counts["billing_disputes"] = 1
    counts["billing_followups_done"] = followups_sweep()
    return counts


def _online_payment(*, open_balances: list[Any]) -> int:
    """One balance paid online through the built-in test provider, the way a payer does it: a checkout, then
    the provider's signed event (the same webhook path as a real provider); 1 when paid."""
    from django.conf import settings

    from careline.billing.models import PaymentCheckout
    from careline.billing.providers import PAYMENT_PROVIDERS, Checkout
    from careline.billing.providers.test_provider import (
        PAYING_CARD,
        card_event,
        card_event_sign,
        card_webhook_receive,
    )

    if not open_balances or "test" not in PAYMENT_PROVIDERS:
        return 0
    patient = open_balances[len(open_balances) // 2]
    balance = patient_balance(patient)
    started = PAYMENT_PROVIDERS.get("test").checkout_start(
        Checkout(
            patient_id=patient.pk,
            amount_cents=balance.due,
            currency=balance.currency,
            description="Balance payment",
            success_url=settings.PUBLIC_BASE_URL,
            cancel_url=settings.PUBLIC_BASE_URL,
            idempotency_key=f"demo-online-{patient.pk}",
        )
    )
    checkout = PaymentCheckout.objects.get(provider="test", provider_reference=started.provider_reference)
    body = card_event(checkout, PAYING_CARD)
    return 1 if card_webhook_receive(body, card_event_sign(body)) == "paid" else 0
