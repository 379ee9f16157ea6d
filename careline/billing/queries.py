"""Reads of billing: the derived balance, whether a visit is ready for a statement, and the ledger page's rows.

The balance is never stored or typed: it is what the patient owes after insurance (final adjudications, and
every charge of a self-pay visit) less payments (plus what was refunded of them), credits and write-offs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    BigIntegerField,
    Count,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from careline.billing.models import (
    FINAL_CLAIM_STATUSES,
    Adjudication,
    AdjustmentKind,
    BalanceAdjustment,
    Charge,
    Claim,
    Payment,
    Refund,
    SelfPayVisit,
    default_currency,
)
from careline.patients.models import Patient


@dataclass(frozen=True)
class Balance:
    """A patient's account, in cents: what they owe after insurance and what came off it.

    NET = responsibility - paid + refunded - credits - write_offs. DUE is what they owe now (never below zero);
    CREDIT_BALANCE is what the clinic owes them back (a credit, or payments above a lowered responsibility).
    """

    responsibility: int = 0
    paid: int = 0
    refunded: int = 0
    credits: int = 0
    write_offs: int = 0
    currency: str = field(default_factory=default_currency)

    @property
    def net(self) -> int:
        return self.responsibility - self.paid + self.refunded - self.credits - self.write_offs

    @property
    def due(self) -> int:
        return max(self.net, 0)

    @property
    def credit_balance(self) -> int:
        return max(-self.net, 0)


def _sum(queryset: QuerySet[Any], expression: Any) -> Coalesce:
    """The sum of EXPRESSION over QUERYSET's rows for the outer patient, as a subquery (0 when none)."""
    summed = (
        queryset.filter(patient=OuterRef("pk"))
        .order_by()
        .values("patient")
        .annotate(total=Sum(expression))
        .values("total")
    )
    return Coalesce(Subquery(summed, output_field=BigIntegerField()), Value(0))


def _self_pay_visit() -> Exists:
    """Whether the outer row's visit (`visit` of a charge) is marked self-pay."""
    return Exists(SelfPayVisit.objects.filter(visit=OuterRef("visit")))


def responsibility_adjudications() -> QuerySet[Adjudication]:
    """Adjudications that decide what a patient owes: of final claims, for live charges of billed visits."""
    return Adjudication.objects.filter(claim__status__in=FINAL_CLAIM_STATUSES, charge__voided=False).exclude(
        Exists(SelfPayVisit.objects.filter(visit=OuterRef("charge__visit")))
    )


def balances_of(patients: QuerySet[Patient]) -> QuerySet[Patient]:
    """PATIENTS with their account totals annotated (one query; `balance_from` turns a row into a Balance)."""
    adjudicated = responsibility_adjudications().filter(charge__patient=OuterRef("pk"))
    responsibility_adjudicated = Coalesce(
        Subquery(
            adjudicated.order_by()
            .values("charge__patient")
            .annotate(total=Sum(F("copay_cents") + F("coinsurance_cents") + F("deductible_cents")))
            .values("total"),
            output_field=BigIntegerField(),
        ),
        Value(0),
    )
    self_pay = Charge.objects.filter(voided=False).filter(_self_pay_visit())
    return patients.annotate(
        bal_adjudicated=responsibility_adjudicated,
        bal_self_pay=_sum(self_pay, "amount_cents"),
        bal_paid=_sum(Payment.objects.all(), "amount_cents"),
        bal_refunded=_sum(Refund.objects.all(), "amount_cents"),
        bal_credits=_sum(BalanceAdjustment.objects.filter(kind=AdjustmentKind.CREDIT), "amount_cents"),
        bal_write_offs=_sum(BalanceAdjustment.objects.filter(kind=AdjustmentKind.WRITE_OFF), "amount_cents"),
    )


def balance_from(row: Patient) -> Balance:
    """The Balance of a patient row annotated by `balances_of`."""
    values: Any = row
    return Balance(
        responsibility=int(values.bal_adjudicated) + int(values.bal_self_pay),
        paid=int(values.bal_paid),
        refunded=int(values.bal_refunded),
        credits=int(values.bal_credits),
        write_offs=int(values.bal_write_offs),
    )


def patient_balance(patient: Patient | int) -> Balance:
    """PATIENT's account, derived from the ledger in one query."""
    patient_id = patient if isinstance(patient, int) else patient.pk
    row = balances_of(Patient.objects.filter(pk=patient_id).only("pk")).get()
    return balance_from(row)


def visit_is_statement_ready(appointment: Any) -> bool:
    """Whether a statement may include APPOINTMENT: it is self-pay, or it has claims and every one is final."""
    visit_id = appointment if isinstance(appointment, int) else appointment.pk
    facts = Claim.objects.filter(visit_id=visit_id).aggregate(
        claims=Count("pk"), open=Count("pk", filter=~Q(status__in=FINAL_CLAIM_STATUSES))
    )
    if facts["claims"] and not facts["open"]:
        return True
    return SelfPayVisit.objects.filter(visit_id=visit_id).exists()


# --- the ledger page -------------------------------------------------------------------------------------


@dataclass
class VisitLedger:
    """One visit (or, with VISIT None, the charges on no visit) with its charges and claims."""

    visit: Any
    charges: list[Charge]
    claims: list[Claim]
    self_pay: SelfPayVisit | None

    @property
    def charged_cents(self) -> int:
        return sum(charge.amount_cents for charge in self.charges if not charge.voided)

    @property
    def statement_ready(self) -> bool:
        if self.self_pay is not None:
            return True
        return bool(self.claims) and all(claim.is_final for claim in self.claims)


@dataclass
class Ledger:
    """Everything the ledger page shows of one patient."""

    balance: Balance
    visits: list[VisitLedger]
    payments: list[Payment]
    adjustments: list[BalanceAdjustment]


def patient_ledger(patient: Patient) -> Ledger:
    """PATIENT's charges by visit with their adjudications, payments with refunds, adjustments and balance.

    A fixed number of queries whatever the number of rows."""
    charges = list(
        Charge.objects.filter(patient=patient)
        .select_related("visit__location", "visit__appointment_type", "visit__clinician")
        .prefetch_related(
            Prefetch(
                "adjudications",
                queryset=Adjudication.objects.select_related("claim").order_by("claim_id", "id"),
            )
        )
        .order_by("service_date", "id")
    )
    claims = list(Claim.objects.filter(patient=patient).order_by("submitted_at", "id"))
    self_pay = {row.visit_id: row for row in SelfPayVisit.objects.filter(patient=patient)}
    visits: dict[int | None, VisitLedger] = {}
    for charge in charges:
        entry = visits.get(charge.visit_id)
        if entry is None:
            entry = visits[charge.visit_id] = VisitLedger(
                visit=charge.visit,
                charges=[],
                claims=[],
                self_pay=self_pay.get(charge.visit_id) if charge.visit_id else None,
            )
        entry.charges.append(charge)
    for claim in claims:
        entry = visits.get(claim.visit_id)
        if entry is not None:
            entry.claims.append(claim)
    payments = list(
        Payment.objects.filter(patient=patient)
        .select_related("recorded_by")
        .prefetch_related(Prefetch("refunds", queryset=Refund.objects.select_related("recorded_by")))
        .order_by("-received_at", "-id")
    )
    adjustments = list(
        BalanceAdjustment.objects.filter(patient=patient)
        .select_related("recorded_by")
        .order_by("-created_at", "-id")
    )
    return Ledger(
        balance=patient_balance(patient),
        visits=list(visits.values()),
        payments=payments,
        adjustments=adjustments,
    )
