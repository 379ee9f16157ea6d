"""The front desk's queue of visit requests from the portal: list, book from one (the booking form), decline."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_patients_record
from careline.core.params import row_id
from careline.core.permissions import Perm, require_perm
from careline.scheduling.models import DeclineReason, VisitRequest, VisitRequestState
from careline.scheduling.queries.appointments import locations_visible_to
from careline.scheduling.queries.visit_requests import visit_request_queue, visit_requests_visible_to
from careline.scheduling.services.visit_requests import visit_request_decline


def visit_request_book_link(visit_request: VisitRequest) -> str:
    """The booking form prefilled from VISIT_REQUEST (patient, type, location); booking marks it booked."""
    query = urlencode(
        {
            "patient": visit_request.patient_id,
            "type": visit_request.appointment_type_id,
            "location": visit_request.location_id,
            "visit_request": visit_request.pk,
        }
    )
    return f"{reverse('scheduling:book')}?{query}"


@require_perm(Perm.SCHEDULE_BOOK)
@require_http_methods(["GET"])
def visit_request_list(request: HttpRequest) -> HttpResponse:
    """Open requests oldest first (or handled ones), filtered by location and state."""
    locations = list(locations_visible_to(request.user))
    location_id = row_id(request.GET.get("location"))
    location = next((loc for loc in locations if loc.pk == location_id), None)
    if location_id is not None and location is None:
        raise PermissionDenied
    state = request.GET.get("state") or VisitRequestState.OPEN
    if state not in VisitRequestState.values:
        state = VisitRequestState.OPEN
    rows = visit_request_queue(request.user, state=state, location=location)
    # The reasons patients gave are on the page: one entry per patient shown.
    audit_patients_record(
        actor=Actor.from_request(request),
        action=AuditAction.VIEW,
        patient_ids=sorted({row.patient_id for row in rows}),
        detail=f"visit request queue; state {state}; location {location.pk if location else 'all'}",
    )
    context: dict[str, Any] = {
        "nav": "visit_requests",
        "rows": [(row, visit_request_book_link(row)) for row in rows],
        "locations": locations,
        "location": location,
        "state": state,
        "states": VisitRequestState.choices,
        "decline_reasons": DeclineReason.choices,
    }
    return render(request, "scheduling/visit_requests.html", context)


@require_perm(Perm.SCHEDULE_BOOK)
@require_http_methods(["POST"])
def visit_request_decline_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Decline a request with one of the fixed reasons (the patient is told that sentence)."""
    if not VisitRequest.objects.filter(pk=pk).exists():
        raise Http404("No such request")
    visit_request = visit_requests_visible_to(request.user).filter(pk=pk).first()
    if visit_request is None:
        raise PermissionDenied
    try:
        visit_request_decline(
            visit_request=visit_request,
            reason=request.POST.get("reason", ""),
            actor=Actor.from_request(request),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "The request was declined and the patient told.")
    return redirect("scheduling:visit_requests")
