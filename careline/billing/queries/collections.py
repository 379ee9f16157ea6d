"""Reads of collections: the billing worklist (tasks, balances by age, disputes) and the billing dashboard.

Everything is limited to the patients the reader may see (`visible_patient_condition`). Ages count from the
open statement's date; an account owing money with no statement yet is "Not yet billed".
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from careline.billing.models import (
    BillingTask,
    Dispute,
    InstalmentState,
    Payment,
    PaymentPlan,
    PlanInstalment,
    PlanState,
    Refund,
    Statement,
    StatementChannel,
    StatementState,
    TaskState,
    default_currency,
)
from careline.billing.queries import balances_where
from careline.patients.models import Patient
from careline.patients.queries import patients_visible_to, visible_patient_condition

AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0–30 days", 0, 30),
    ("31–60 days", 31, 60),
    ("61–90 days", 61, 90),
    ("90+ days", 91, None),
)
NOT_BILLED = "Not yet billed"


def instalment_due(patient_id: int) -> PlanInstalment | None:
    """The instalment of PATIENT_ID's active plan to pay now (the oldest not paid in full), or None."""
    return (
        PlanInstalment.objects.filter(plan__patient_id=patient_id, plan__state=PlanState.ACTIVE)
        .exclude(state=InstalmentState.PAID)
        .order_by("number")
        .first()
    )


def bucket_of(age_days: int | None) -> str:
    if age_days is None:
        return NOT_BILLED
    for label, low, high in AGE_BUCKETS:
        if age_days >= low and (high is None or age_days <= high):
            return label
    return AGE_BUCKETS[0][0]


@dataclass
class AgedAccount:
    patient: Patient
    due: int
    age_days: int | None
    statement: Statement | None
    has_plan: bool
    has_dispute: bool

    @property
    def bucket(self) -> str:
        return bucket_of(self.age_days)


@dataclass
class AgeBucket:
    label: str
    count: int = 0
    total: int = 0


def aged_accounts(user: Any, *, today: date | None = None) -> list[AgedAccount]:
    """Every account USER may see that owes money now, oldest first (two queries for the balances, two more
    for the open statements, plans and disputes)."""
    today = today or timezone.localdate()
    billed = (
        patients_visible_to(user)
        .filter(Q(billing_charges__isnull=False) | Q(billing_payments__isnull=False))
        .distinct()
    )
    dues = {pk: balance.due for pk, balance in balances_where(billed).items() if balance.due > 0}
    rows = [row for row in billed.order_by("pk").iterator(chunk_size=2_000) if row.pk in dues]
    ids = [row.pk for row in rows]
    statements = {
        s.patient_id: s
        for s in Statement.objects.filter(patient_id__in=ids, state=StatementState.ISSUED).order_by(
            "issued_at"
        )
    }
    plans = set(
        PaymentPlan.objects.filter(patient_id__in=ids, state=PlanState.ACTIVE).values_list(
            "patient_id", flat=True
        )
    )
    disputes = set(
        Dispute.objects.filter(patient_id__in=ids, resolved_at__isnull=True).values_list(
            "patient_id", flat=True
        )
    )
    accounts = []
    for row in rows:
        statement = statements.get(row.pk)
        accounts.append(
            AgedAccount(
                patient=row,
                due=dues[row.pk],
                age_days=(today - statement.statement_date).days if statement else None,
                statement=statement,
                has_plan=row.pk in plans,
                has_dispute=row.pk in disputes,
            )
        )
    accounts.sort(key=lambda a: (-(a.age_days if a.age_days is not None else -1), -a.due))
    return accounts


def age_buckets(accounts: list[AgedAccount]) -> list[AgeBucket]:
    buckets = {label: AgeBucket(label) for label, _low, _high in AGE_BUCKETS}
    buckets[NOT_BILLED] = AgeBucket(NOT_BILLED)
    for account in accounts:
        bucket = buckets[account.bucket]
        bucket.count += 1
        bucket.total += account.due
    return list(buckets.values())


def worklist_tasks(user: Any, *, show: str = "open", kind: str = "") -> QuerySet[BillingTask]:
    """Billing tasks about patients USER may see: open (all, 'mine' or 'unassigned') or done, oldest first."""
    tasks = BillingTask.objects.filter(visible_patient_condition(user)).select_related(
        "patient", "assigned_to", "statement"
    )
    if show == "done":
        tasks = tasks.filter(state=TaskState.DONE).order_by("-closed_at", "-id")
    else:
        tasks = tasks.filter(state=TaskState.OPEN)
        if show == "mine":
            tasks = tasks.filter(assigned_to=user)
        elif show == "unassigned":
            tasks = tasks.filter(assigned_to__isnull=True)
    if kind:
        tasks = tasks.filter(kind=kind)
    return tasks.prefetch_related("notes__author")


def overpayments_to_review(user: Any) -> QuerySet[Payment]:
    """Payments beyond what was due, not yet reviewed (refund or keep as credit), of USER's patients."""
    return (
        Payment.objects.filter(overpayment_cents__gt=0, overpayment_reviewed_at__isnull=True)
        .filter(patient__in=patients_visible_to(user))
        .select_related("patient")
        .order_by("received_at", "id")
    )


def open_disputes(user: Any) -> QuerySet[Dispute]:
    return (
        Dispute.objects.filter(visible_patient_condition(user), resolved_at__isnull=True)
        .select_related("patient", "statement", "opened_by")
        .order_by("opened_at")
    )


def task_for_user(user: Any, pk: int) -> BillingTask | None:
    return (
        BillingTask.objects.filter(visible_patient_condition(user), pk=pk).select_related("patient").first()
    )


# --- the dashboard ------------------------------------------------------------------------------------------


@dataclass
class ChannelFigures:
    channel: str
    label: str
    sent: int = 0
    paid: int = 0
    days_to_pay: list[int] = field(default_factory=list)

    @property
    def payment_rate(self) -> float | None:
        return self.paid / self.sent if self.sent else None

    @property
    def median_days(self) -> float | None:
        return statistics.median(self.days_to_pay) if self.days_to_pay else None


@dataclass
class Dashboard:
    start: date
    end: date
    currency: str
    buckets: list[AgeBucket]
    outstanding: int
    channels: list[ChannelFigures]
    collected: list[tuple[date, int]]

    @property
    def bucket_bars(self) -> list[Bar]:
        return bars([(bucket.label, bucket.total) for bucket in self.buckets])

    @property
    def collected_bars(self) -> list[Bar]:
        return bars([(month.strftime("%b %Y"), amount) for month, amount in self.collected])


CHART_WIDTH = 320  # the longest bar, in the SVG's units
ROW_HEIGHT = 22


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    width: int
    y: int


def bars(rows: list[tuple[str, int]]) -> list[Bar]:
    """Horizontal bars for (label, value) rows, the largest CHART_WIDTH long (negative values draw none)."""
    top = max((value for _label, value in rows), default=0)
    return [
        Bar(label, value, round(CHART_WIDTH * max(value, 0) / top) if top > 0 else 0, index * ROW_HEIGHT)
        for index, (label, value) in enumerate(rows)
    ]


def _months(end: date, count: int) -> list[date]:
    months = []
    year, month = end.year, end.month
    for _ in range(count):
        months.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(months))


def statement_outcomes(statements: list[Statement]) -> dict[int, int | None]:
    """{statement id: days from issue until the patient's payments since then covered its amount, or None}."""
    patient_ids = {s.patient_id for s in statements}
    payments: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for patient_id, received_at, amount in (
        Payment.objects.filter(patient_id__in=patient_ids)
        .order_by("received_at")
        .values_list("patient_id", "received_at", "amount_cents")
    ):
        payments[patient_id].append((received_at, amount))
    outcomes: dict[int, int | None] = {}
    for statement in statements:
        paid, days = 0, None
        if statement.amount_due_cents <= 0:
            outcomes[statement.pk] = None
            continue
        for received_at, amount in payments[statement.patient_id]:
            if received_at <= statement.issued_at:
                continue
            paid += amount
            if paid >= statement.amount_due_cents:
                days = (received_at.date() - statement.issued_at.date()).days
                break
        outcomes[statement.pk] = days
    return outcomes


def billing_dashboard(user: Any, *, months: int = 12, today: date | None = None) -> Dashboard:
    """The dashboard's figures over the last MONTHS months for the patients USER may see."""
    today = today or timezone.localdate()
    month_starts = _months(today, months)
    start = month_starts[0]
    visible = visible_patient_condition(user)
    accounts = aged_accounts(user, today=today)
    statements = list(
        Statement.objects.filter(visible, statement_date__gte=start, amount_due_cents__gt=0).exclude(
            state=StatementState.VOIDED
        )
    )
    outcomes = statement_outcomes(statements)
    channels = {c.value: ChannelFigures(c.value, str(c.label)) for c in StatementChannel}
    for statement in statements:
        figures = channels[statement.channel]
        figures.sent += 1
        days = outcomes.get(statement.pk)
        if days is not None:
            figures.paid += 1
            figures.days_to_pay.append(days)
    paid_by_month = dict(
        Payment.objects.filter(visible, received_at__date__gte=start)
        .annotate(month=TruncMonth("received_at"))
        .values("month")
        .annotate(total=Sum("amount_cents"))
        .values_list("month", "total")
    )
    refunded_by_month = dict(
        Refund.objects.filter(visible, refunded_at__date__gte=start)
        .annotate(month=TruncMonth("refunded_at"))
        .values("month")
        .annotate(total=Sum("amount_cents"))
        .values_list("month", "total")
    )

    def month_key(value: Any) -> date:
        return value.date() if isinstance(value, datetime) else value

    paid = {month_key(k): v for k, v in paid_by_month.items()}
    refunded = {month_key(k): v for k, v in refunded_by_month.items()}
    collected = [(m, int(paid.get(m, 0) or 0) - int(refunded.get(m, 0) or 0)) for m in month_starts]
    buckets = age_buckets(accounts)
    return Dashboard(
        start=start,
        end=today,
        currency=default_currency(),
        buckets=buckets,
        outstanding=sum(b.total for b in buckets),
        channels=list(channels.values()),
        collected=collected,
    )


# For the worklist's age filter.
AGE_FILTERS = {label: label for label, _low, _high in AGE_BUCKETS} | {NOT_BILLED: NOT_BILLED}


def accounts_in(accounts: list[AgedAccount], bucket: str) -> list[AgedAccount]:
    return [a for a in accounts if a.bucket == bucket] if bucket in AGE_FILTERS else accounts
