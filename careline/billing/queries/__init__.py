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
    PaymentMethod,
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


def balances_where(patients: QuerySet[Patient]) -> dict[int, Balance]:
    """The Balance of every patient of PATIENTS with an account entry, by id (absent: nothing on file).

    Set-wise: six grouped sums over the patients' rows, whatever their number. The bulk statement run and
    its preview read thousands of patients at once, where `balances_of`'s subqueries per patient row would
    run once per patient (and turn into a scan per patient when the table statistics are stale after a large
    import)."""
    ids = patients.order_by().values("pk")
    parts: dict[str, dict[int, int]] = {}

    def grouped(name: str, queryset: QuerySet[Any], patient: str, expression: Any) -> None:
        rows = (
            queryset.filter(**{f"{patient}__in": ids})
            .order_by()
            .values_list(patient)
            .annotate(total=Sum(expression))
        )
        parts[name] = {pk: int(total or 0) for pk, total in rows}

    grouped(
        "adjudicated",
        responsibility_adjudications(),
        "charge__patient",
        F("copay_cents") + F("coinsurance_cents") + F("deductible_cents"),
    )
    grouped(
        "self_pay", Charge.objects.filter(voided=False).filter(_self_pay_visit()), "patient", "amount_cents"
    )
    grouped("paid", Payment.objects.all(), "patient", "amount_cents")
    grouped("refunded", Refund.objects.all(), "patient", "amount_cents")
    grouped(
        "credits", BalanceAdjustment.objects.filter(kind=AdjustmentKind.CREDIT), "patient", "amount_cents"
    )
    grouped(
        "write_offs",
        BalanceAdjustment.objects.filter(kind=AdjustmentKind.WRITE_OFF),
        "patient",
        "amount_cents",
    )
    found: set[int] = set().union(*(part.keys() for part in parts.values()))
    return {
        pk: Balance(
            responsibility=parts["adjudicated"].get(pk, 0) + parts["self_pay"].get(pk, 0),
            paid=parts["paid"].get(pk, 0),
            refunded=parts["refunded"].get(pk, 0),
            credits=parts["credits"].get(pk, 0),
            write_offs=parts["write_offs"].get(pk, 0),
        )
        for pk in found
    }


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


# --- statements ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineDraft:
    """A statement line before it is stored (see StatementLine): AMOUNT_CENTS is its effect on what is due."""

    kind: str
    line_date: Any
    description: str
    amount_cents: int
    visit_id: int | None = None
    charge_id: int | None = None
    service_code: str = ""
    charged_cents: int = 0
    insurance_paid_cents: int = 0
    insurance_adjusted_cents: int = 0
    patient_id: int | None = None  # whose item it is (a guarantor's statement combines several patients)


def statement_ready_visit_ids(patient_id: int) -> set[int]:
    """PATIENT's visits a statement may include: every claim final, or marked self-pay (`visit_is_statement_ready`
    for all of them in two queries)."""
    return _ready_visits([patient_id])[0]


def _ready_visits(patient_ids: list[int]) -> tuple[set[int], set[int]]:
    """(the visits of PATIENT_IDS ready for a statement, those of them marked self-pay), in two queries."""
    facts = (
        Claim.objects.filter(patient_id__any_of=patient_ids)
        .order_by()
        .values("visit_id")
        .annotate(claims=Count("pk"), open=Count("pk", filter=~Q(status__in=FINAL_CLAIM_STATUSES)))
    )
    ready = {row["visit_id"] for row in facts if row["claims"] and not row["open"]}
    self_pay = set(
        SelfPayVisit.objects.filter(patient_id__any_of=patient_ids).values_list("visit_id", flat=True)
    )
    return ready | self_pay, self_pay


def patients_with_ready_charges(patient_ids: list[int]) -> set[int]:
    """Those of PATIENT_IDS a statement may be issued to now: a live charge on a ready visit (or on none), the
    rule `statement_line_drafts_of` applies, in three queries."""
    ready, _ = _ready_visits(patient_ids)
    return set(
        Charge.objects.filter(patient_id__in=patient_ids, voided=False)
        .filter(Q(visit_id__in=ready) | Q(visit__isnull=True))
        .order_by()
        .values_list("patient_id", flat=True)
        .distinct()
    )


_KIND_ORDER = {"charge": 0, "refund": 1, "payment": 2, "credit": 3, "write_off": 4}


def statement_line_drafts(patient_id: int) -> list[LineDraft]:
    """The lines a statement of PATIENT would list now: the live charges of ready visits with what insurance
    paid and adjusted and the patient's share, then payments, refunds, credits and write-offs; by date."""
    return statement_line_drafts_of([patient_id])[patient_id]


def statement_line_drafts_of(patient_ids: list[int]) -> dict[int, list[LineDraft]]:
    """`statement_line_drafts` of many patients in seven queries (the bulk run's chunks)."""
    from careline.billing.models import StatementLineKind

    ready, self_pay = _ready_visits(patient_ids)
    drafts: dict[int, list[LineDraft]] = {pk: [] for pk in patient_ids}
    charges = (
        Charge.objects.filter(patient_id__any_of=patient_ids, voided=False)
        .filter(Q(visit_id__any_of=ready) | Q(visit__isnull=True))
        .prefetch_related(
            Prefetch(
                "adjudications",
                queryset=Adjudication.objects.filter(claim__status__in=FINAL_CLAIM_STATUSES).order_by("id"),
            )
        )
        .order_by("service_date", "id")
    )
    for charge in charges:
        adjudications = list(charge.adjudications.all())
        if charge.visit_id is not None and charge.visit_id in self_pay:
            paid = adjusted = 0
            share = charge.amount_cents
        elif adjudications:
            paid = sum(a.paid_by_insurer_cents for a in adjudications)
            adjusted = sum(a.adjustment_cents for a in adjudications)
            share = sum(a.patient_responsibility_cents for a in adjudications)
        else:
            continue  # a charge on no visit that no payer has answered for: not the patient's yet
        drafts[charge.patient_id].append(
            LineDraft(
                kind=StatementLineKind.CHARGE,
                line_date=charge.service_date,
                description=charge.description,
                amount_cents=share,
                visit_id=charge.visit_id,
                charge_id=charge.pk,
                service_code=charge.service_code,
                charged_cents=charge.amount_cents,
                insurance_paid_cents=paid,
                insurance_adjusted_cents=adjusted,
                patient_id=charge.patient_id,
            )
        )
    methods = dict(PaymentMethod.choices)
    for patient_id, received, amount, method in (
        Payment.objects.filter(patient_id__any_of=patient_ids)
        .order_by("received_at", "id")
        .values_list("patient_id", "received_at", "amount_cents", "method")
    ):
        drafts[patient_id].append(
            LineDraft(
                kind=StatementLineKind.PAYMENT,
                line_date=received.date(),
                description=f"Payment ({str(methods.get(method, method)).lower()})",
                amount_cents=-amount,
                patient_id=patient_id,
            )
        )
    for patient_id, refunded, amount in (
        Refund.objects.filter(patient_id__any_of=patient_ids)
        .order_by("refunded_at", "id")
        .values_list("patient_id", "refunded_at", "amount_cents")
    ):
        drafts[patient_id].append(
            LineDraft(
                kind=StatementLineKind.REFUND,
                line_date=refunded.date(),
                description="Refund",
                amount_cents=amount,
                patient_id=patient_id,
            )
        )
    kinds = dict(AdjustmentKind.choices)
    for patient_id, created, amount, kind in (
        BalanceAdjustment.objects.filter(patient_id__any_of=patient_ids)
        .order_by("created_at", "id")
        .values_list("patient_id", "created_at", "amount_cents", "kind")
    ):
        drafts[patient_id].append(
            LineDraft(
                kind=kind,
                line_date=created.date(),
                description=str(kinds.get(kind, kind)),
                amount_cents=-amount,
                patient_id=patient_id,
            )
        )
    for lines in drafts.values():
        lines.sort(key=lambda d: (d.line_date, _KIND_ORDER.get(d.kind, 9)))
    return drafts


@dataclass(frozen=True)
class StatementTotals:
    """The totals printed on a statement, all from its lines."""

    charged: int
    insurance_paid: int
    insurance_adjusted: int
    patient_share: int
    payments_and_credits: int  # payments, credits and write-offs, less refunds (a positive number)
    net: int

    @property
    def amount_due(self) -> int:
        return max(self.net, 0)

    @property
    def credit(self) -> int:
        return max(-self.net, 0)


def statement_totals(lines: Any) -> StatementTotals:
    """The totals of LINES (drafts or stored lines): every figure is a sum of lines."""
    rows = list(lines)
    charges = [line for line in rows if line.kind == "charge"]
    others = [line for line in rows if line.kind != "charge"]
    return StatementTotals(
        charged=sum(line.charged_cents for line in charges),
        insurance_paid=sum(line.insurance_paid_cents for line in charges),
        insurance_adjusted=sum(line.insurance_adjusted_cents for line in charges),
        patient_share=sum(line.amount_cents for line in charges),
        payments_and_credits=-sum(line.amount_cents for line in others),
        net=sum(line.amount_cents for line in rows),
    )


@dataclass(frozen=True)
class HistoryEntry:
    at: Any
    title: str
    detail: str = ""
    actor: str = ""


def _message_entries(message: Any, since: Any) -> list[HistoryEntry]:
    """What became of a statement's text or email, read from the message itself."""
    what = "Email" if "@" in (message.to_address or "") else "Text"
    entries = []
    if message.state == "suppressed":
        entries.append(HistoryEntry(since, f"{what} not sent", message.get_suppression_reason_display()))
    if message.sent_at:
        entries.append(HistoryEntry(message.sent_at, f"{what} sent"))
    if message.delivered_at:
        entries.append(HistoryEntry(message.delivered_at, f"{what} delivered"))
    if message.state in ("failed", "undelivered", "cancelled"):
        entries.append(
            HistoryEntry(
                max(message.finished_at or since, since),
                f"{what} {message.get_state_display().lower()}",
                message.error_message or message.error_code,
            )
        )
    if message.state == "queued" and message.due_at:
        entries.append(HistoryEntry(since, f"{what} waiting", "held for quiet hours"))
    return entries


def statement_history(statement: Any) -> list[HistoryEntry]:
    """STATEMENT's history, oldest first: issued, sent, delivered or failed, viewed, link sent again, voided."""
    from careline.billing.models import StatementEvent

    entries: list[HistoryEntry] = []
    for event in (
        StatementEvent.objects.filter(statement=statement).select_related("message").order_by("at", "id")
    ):
        entries.append(HistoryEntry(event.at, event.get_kind_display(), event.detail, event.actor))
        if event.message is not None:
            entries += _message_entries(event.message, event.at)
    entries.sort(key=lambda entry: entry.at)
    return entries


def statements_of_patient(patient_id: int) -> QuerySet[Any]:
    """PATIENT's statements, newest first (with the guarantor's name): their own, and their guarantor's that
    list their items."""
    from careline.billing.models import Statement, StatementLine

    theirs = StatementLine.objects.filter(patient_id=patient_id).values("statement_id")
    return (
        Statement.objects.filter(Q(patient_id=patient_id) | Q(pk__in=theirs))
        .select_related("guarantor", "patient")
        .order_by("-issued_at", "-id")
    )


def statement_patient_ids(statement: Any) -> list[int]:
    """The patients whose items STATEMENT lists: its patient first, then a guarantor's dependants."""
    from careline.billing.models import StatementLine

    others = set(
        StatementLine.objects.filter(statement=statement)
        .exclude(patient_id=statement.patient_id)
        .exclude(patient__isnull=True)
        .values_list("patient_id", flat=True)
    )
    return [statement.patient_id, *sorted(others)]


def statement_balance(statement: Any) -> Balance:
    """The balance now of every account STATEMENT lists, summed (one patient's for a plain statement)."""
    return balance_of_patients(statement_patient_ids(statement))


def balance_of_patients(ids: list[int]) -> Balance:
    """The accounts of the patients IDS summed (a guarantor's and their dependants'), in one query."""
    if len(ids) == 1:
        return patient_balance(ids[0])
    rows = [balance_from(row) for row in balances_of(Patient.objects.filter(pk__in=ids))]
    return Balance(
        responsibility=sum(b.responsibility for b in rows),
        paid=sum(b.paid for b in rows),
        refunded=sum(b.refunded for b in rows),
        credits=sum(b.credits for b in rows),
        write_offs=sum(b.write_offs for b in rows),
        currency=rows[0].currency if rows else default_currency(),
    )


def statements_mailed_on(day: Any, patients: QuerySet[Patient]) -> QuerySet[Any]:
    """The statements going by mail issued on DAY for PATIENTS (the day's batch), voided ones left out."""
    from careline.billing.models import Statement, StatementChannel, StatementState

    return (
        Statement.objects.filter(statement_date=day, channel=StatementChannel.MAIL, patient__in=patients)
        .exclude(state=StatementState.VOIDED)
        .select_related("patient__primary_location", "guarantor")
        .order_by("id")
    )
