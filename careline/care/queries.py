"""Reads the care pages share: alerts and readings a staff member may see (their locations, CARE_VIEW)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Case, Count, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone

from careline.care.models import (
    AlertState,
    CareAlert,
    CareAlertCall,
    Enrolment,
    EnrolmentState,
    Reading,
    Severity,
)
from careline.core.permissions import Perm, has_perm

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _location_condition(user: Any, field: str = "location_id") -> Q:
    if has_perm(user, Perm.PATIENT_VIEW_ALL_LOCATIONS):
        return Q()
    return Q(**{f"{field}__in": list(user.location_ids)})


def alerts_visible_to(user: Any) -> QuerySet[CareAlert]:
    """The care alerts USER may see: CARE_VIEW, at their locations (every location's with all-locations)."""
    if not has_perm(user, Perm.CARE_VIEW):
        return CareAlert.objects.none()
    return CareAlert.objects.filter(_location_condition(user))


WORKLIST_PAGE_SIZE = 50
# The worklist's order, as integers a keyset can compare: escalated first, then critical before warning.
_ESCALATED_RANK = Case(
    When(escalated_at__isnull=False, then=Value(0)), default=Value(1), output_field=IntegerField()
)
_SEVERITY_RANK = Case(
    When(severity=Severity.CRITICAL, then=Value(0)), default=Value(1), output_field=IntegerField()
)


@dataclass(frozen=True)
class WorklistFilters:
    """What the nurse narrowed the worklist to: a severity, one of their locations, only unacknowledged."""

    severity: str = ""
    location_id: int | None = None
    unacknowledged: bool = False

    def condition(self) -> Q:
        """The filters as a condition on open (and acknowledged) alerts."""
        condition = Q()
        if self.severity:
            condition &= Q(severity=self.severity)
        if self.location_id is not None:
            condition &= Q(location_id=self.location_id)
        if self.unacknowledged:
            condition &= Q(state=AlertState.OPEN)
        return condition


class BadWorklistCursor(ValueError):
    """A "Next page" position that Careline did not write."""


@dataclass(frozen=True)
class WorklistCursor:
    """Where a worklist page starts: after the alert with these ranks, this opening time and this id."""

    escalated_rank: int
    severity_rank: int
    opened_at: datetime
    pk: int

    def encode(self) -> str:
        micros = (self.opened_at - EPOCH) // timedelta(microseconds=1)
        return f"{self.escalated_rank}{self.severity_rank}.{micros}.{self.pk}"

    @classmethod
    def decode(cls, raw: str) -> WorklistCursor:
        """The cursor RAW names; BadWorklistCursor when it is not one."""
        parts = (raw or "").split(".")
        if len(parts) != 3:
            raise BadWorklistCursor(raw)
        ranks, micros, pk = parts
        if (
            len(ranks) != 2
            or any(rank not in "01" for rank in ranks)
            or not micros.isdigit()
            or not pk.isdigit()
            or len(micros) > 18
            or len(pk) > 18
        ):
            raise BadWorklistCursor(raw)
        try:
            opened_at = EPOCH + timedelta(microseconds=int(micros))
        except OverflowError:
            raise BadWorklistCursor(raw) from None
        return cls(int(ranks[0]), int(ranks[1]), opened_at, int(pk))

    @classmethod
    def of(cls, alert: CareAlert) -> WorklistCursor:
        """The position of ALERT (annotated by `worklist_page`)."""
        return cls(alert.escalated_rank, alert.severity_rank, alert.opened_at, alert.pk)  # type: ignore[attr-defined]


def _after(cursor: WorklistCursor) -> Q:
    """Alerts after CURSOR in the worklist's order (escalated, severity, oldest first, then id)."""
    e, s, at, pk = cursor.escalated_rank, cursor.severity_rank, cursor.opened_at, cursor.pk
    return (
        Q(escalated_rank__gt=e)
        | Q(escalated_rank=e, severity_rank__gt=s)
        | Q(escalated_rank=e, severity_rank=s, opened_at__gt=at)
        | Q(escalated_rank=e, severity_rank=s, opened_at=at, pk__gt=pk)
    )


def worklist_scope(user: Any) -> QuerySet[CareAlert]:
    """Open and acknowledged alerts USER may see."""
    return alerts_visible_to(user).filter(state__in=[AlertState.OPEN, AlertState.ACKNOWLEDGED])


@dataclass(frozen=True)
class WorklistPage:
    alerts: list[CareAlert]
    next_cursor: str  # empty on the last page


def worklist_page(
    user: Any,
    filters: WorklistFilters,
    *,
    after: WorklistCursor | None = None,
    size: int = WORKLIST_PAGE_SIZE,
) -> WorklistPage:
    """One page of the worklist (keyset): escalated first, then critical before warning, oldest first; with
    the patient's phones and the calls logged, newest first, for the call task. Charts are not read here:
    each row loads its trend when it is opened."""
    rows = (
        worklist_scope(user)
        .filter(filters.condition())
        .annotate(escalated_rank=_ESCALATED_RANK, severity_rank=_SEVERITY_RANK)
    )
    if after is not None:
        rows = rows.filter(_after(after))
    alerts: list[CareAlert] = list(
        rows.select_related("patient", "location", "reading", "acknowledged_by")
        .prefetch_related(
            "patient__phones",
            Prefetch("calls", queryset=CareAlertCall.objects.select_related("caller")),
        )
        .order_by("escalated_rank", "severity_rank", "opened_at", "id")[: size + 1]
    )
    more = len(alerts) > size
    alerts = alerts[:size]
    return WorklistPage(alerts, WorklistCursor.of(alerts[-1]).encode() if more and alerts else "")


def worklist_counts(user: Any, filters: WorklistFilters) -> dict[str, int]:
    """The header's counts in one query: open alerts at the chosen location (or all of USER's), by severity,
    unacknowledged and escalated, and how many match every filter."""
    scope = worklist_scope(user)
    if filters.location_id is not None:
        scope = scope.filter(location_id=filters.location_id)
    return scope.aggregate(
        total=Count("pk"),
        critical=Count("pk", filter=Q(severity=Severity.CRITICAL)),
        warning=Count("pk", filter=Q(severity=Severity.WARNING)),
        unacknowledged=Count("pk", filter=Q(state=AlertState.OPEN)),
        escalated=Count("pk", filter=Q(escalated_at__isnull=False)),
        matching=Count("pk", filter=filters.condition()),
    )


def latest_text_conversations(patient_ids: set[int]) -> dict[int, int]:
    """{patient id: their latest text conversation's id} for PATIENT_IDS, in one query (reply by text)."""
    from careline.messaging.models import Conversation

    found: dict[int, int] = {}
    rows = (
        Conversation.objects.filter(patient_id__in=patient_ids, contact__startswith="+")
        .order_by("patient_id", "-last_message_at", "-id")
        .values_list("patient_id", "pk")
    )
    for patient_id, pk in rows:
        found.setdefault(patient_id, pk)
    return found


def care_alerts_nav_badge(user: Any) -> int | None:
    """Open, unacknowledged alerts at USER's locations (one count query); None without CARE_VIEW."""
    if not has_perm(user, Perm.CARE_VIEW):
        return None
    return alerts_visible_to(user).filter(state=AlertState.OPEN).count()


def readings_for(
    patient_id: int, *, days: int = 30, now: datetime | None = None, measures: list[str] | None = None
) -> list[Reading]:
    """PATIENT's readings of the last DAYS days (of MEASURES, when given), oldest first."""
    since = (now or timezone.now()) - timedelta(days=days)
    rows = Reading.objects.filter(patient_id=patient_id, taken_at__gte=since)
    if measures is not None:
        rows = rows.filter(measure__in=measures)
    return list(rows.order_by("taken_at", "id"))


def enrolments_of(patient_id: int) -> list[Enrolment]:
    """PATIENT's enrolments, active first."""
    rows = Enrolment.objects.filter(patient_id=patient_id).select_related("program", "enrolled_by")
    return sorted(rows, key=lambda e: (e.state != EnrolmentState.ACTIVE, -e.pk))
