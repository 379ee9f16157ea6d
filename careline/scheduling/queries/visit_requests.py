"""Reads of visit requests: the front desk's queue (scoped like appointments) and its navigation badge."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from careline.core.permissions import Perm, has_perm
from careline.patients.queries import visible_patient_condition
from careline.scheduling.models import VisitRequest, VisitRequestState
from careline.scheduling.queries.appointments import locations_visible_to

QUEUE_PAGE_SIZE = 100


def visit_requests_visible_to(user: Any) -> QuerySet[VisitRequest]:
    """Requests USER may handle: SCHEDULE_BOOK, at their visible locations, of patients they may see."""
    if not has_perm(user, Perm.SCHEDULE_BOOK):
        return VisitRequest.objects.none()
    return VisitRequest.objects.filter(
        visible_patient_condition(user), location__in=locations_visible_to(user)
    )


def visit_request_queue(
    user: Any, *, state: str = VisitRequestState.OPEN, location: Any = None, limit: int = QUEUE_PAGE_SIZE
) -> list[VisitRequest]:
    """The queue: USER's requests in STATE (oldest first while open, newest first once handled). One query."""
    rows = visit_requests_visible_to(user).filter(state=state)
    if location is not None:
        rows = rows.filter(location=location)
    order = ("created_at", "id") if state == VisitRequestState.OPEN else ("-handled_at", "-id")
    return list(
        rows.select_related("patient", "appointment_type", "location", "handled_by", "appointment").order_by(
            *order
        )[:limit]
    )


def visit_requests_nav_badge(user: Any) -> int | None:
    """Open requests USER may handle (the badge beside Visit requests); None without SCHEDULE_BOOK."""
    if not has_perm(user, Perm.SCHEDULE_BOOK):
        return None
    return visit_requests_visible_to(user).filter(state=VisitRequestState.OPEN).count()


def patient_visit_requests(patient: Any, *, limit: int = 20) -> list[VisitRequest]:
    """PATIENT's own requests, newest first (the portal's list). One query."""
    return list(
        VisitRequest.objects.filter(patient=patient)
        .select_related("appointment_type", "location")
        .order_by("-created_at", "-id")[:limit]
    )
