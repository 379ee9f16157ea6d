"""Reads the care pages share: alerts and readings a staff member may see (their locations, CARE_VIEW)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Case, IntegerField, Prefetch, Q, QuerySet, Value, When
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


def _location_condition(user: Any, field: str = "location_id") -> Q:
    if has_perm(user, Perm.PATIENT_VIEW_ALL_LOCATIONS):
        return Q()
    return Q(**{f"{field}__in": list(user.location_ids)})


def alerts_visible_to(user: Any) -> QuerySet[CareAlert]:
    """The care alerts USER may see: CARE_VIEW, at their locations (every location's with all-locations)."""
    if not has_perm(user, Perm.CARE_VIEW):
        return CareAlert.objects.none()
    return CareAlert.objects.filter(_location_condition(user))


def worklist_alerts(user: Any, *, limit: int = 200) -> list[CareAlert]:
    """Open and acknowledged alerts: escalated first, then critical before warning, oldest first (with the
    patient's phones and the calls logged, newest first, for the call task)."""
    rank = Case(
        When(severity=Severity.CRITICAL, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    escalated = Case(
        When(escalated_at__isnull=False, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return list(
        alerts_visible_to(user)
        .filter(state__in=[AlertState.OPEN, AlertState.ACKNOWLEDGED])
        .select_related("patient", "location", "reading", "acknowledged_by", "enrolment__program")
        .prefetch_related(
            "enrolment__program__measures",
            "enrolment__thresholds",
            "patient__phones",
            Prefetch("calls", queryset=CareAlertCall.objects.select_related("caller")),
        )
        .annotate(rank=rank, escalated_rank=escalated)
        .order_by("escalated_rank", "state", "rank", "opened_at", "id")[:limit]
    )


def care_alerts_nav_badge(user: Any) -> int | None:
    """Open, unacknowledged alerts at USER's locations (one count query); None without CARE_VIEW."""
    if not has_perm(user, Perm.CARE_VIEW):
        return None
    return alerts_visible_to(user).filter(state=AlertState.OPEN).count()


def readings_by_patient(patient_ids: set[int], *, days: int = 30) -> dict[int, list[Reading]]:
    """{patient id: readings of the last DAYS days, oldest first} for PATIENT_IDS, in one query."""
    since = timezone.now() - timedelta(days=days)
    found: dict[int, list[Reading]] = {pk: [] for pk in patient_ids}
    for reading in Reading.objects.filter(patient_id__in=patient_ids, taken_at__gte=since).order_by(
        "taken_at", "id"
    ):
        found[reading.patient_id].append(reading)
    return found


def readings_for(patient_id: int, *, days: int = 30, now: datetime | None = None) -> list[Reading]:
    """PATIENT's readings of the last DAYS days, oldest first."""
    since = (now or timezone.now()) - timedelta(days=days)
    return list(Reading.objects.filter(patient_id=patient_id, taken_at__gte=since).order_by("taken_at", "id"))


def enrolments_of(patient_id: int) -> list[Enrolment]:
    """PATIENT's enrolments, active first."""
    rows = Enrolment.objects.filter(patient_id=patient_id).select_related("program", "enrolled_by")
    return sorted(rows, key=lambda e: (e.state != EnrolmentState.ACTIVE, -e.pk))
