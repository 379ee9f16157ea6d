"""What the calendar's grid asks for with fetch: its visits and shading (JSON), and a visit dragged or resized.

Both answer JSON, bad input included ({"error": "..."} with 400), so the grid can show the reason; a
person who may not see a location or move a visit gets 403, as on the pages.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from careline.core.actor import Actor
from careline.core.audit import audit_read_coalesced
from careline.core.params import row_id
from careline.core.permissions import Perm, has_perm, require_perm
from careline.scheduling.forms.appointments import clinician_choices
from careline.scheduling.forms.calendar import CalendarMoveForm, CalendarRangeForm, form_problem
from careline.scheduling.models import ChangeSource
from careline.scheduling.queries.appointments import (
    appointment_for_user,
    clinicians_visible_to,
    local_to_utc,
    locations_visible_to,
)
from careline.scheduling.queries.calendar import FeedRequest, calendar_feed
from careline.scheduling.services import appointments as services


def _json(data: dict[str, object], status: int = 200) -> JsonResponse:
    response = JsonResponse(data, status=status)
    response["Cache-Control"] = "private, no-store"  # patients' names
    return response


def _filter_id(request: HttpRequest, name: str) -> int | None:
    """The id in ?NAME=, None when empty; ValueError when it is not an id."""
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    value = row_id(raw)
    if value is None:
        raise ValueError(f"{name}: choose one from the list.")
    return value


@require_perm(Perm.SCHEDULE_VIEW)
@require_http_methods(["GET"])
def calendar_events(request: HttpRequest) -> HttpResponse:
    """The visits, clinicians and shading of ?start= to ?end= (local days) for ?view=, ?location=, ?clinician=."""
    form = CalendarRangeForm(request.GET)
    try:
        location_id, clinician_id = _filter_id(request, "location"), _filter_id(request, "clinician")
    except ValueError as exc:
        return _json({"error": str(exc)}, status=400)
    if not form.is_valid():
        return _json({"error": form_problem(form)}, status=400)
    locations = list(locations_visible_to(request.user))
    location = next((loc for loc in locations if loc.pk == location_id), None)
    if location_id is not None and location is None:
        raise PermissionDenied
    clinician = None
    if clinician_id is not None:
        clinician = clinicians_visible_to(request.user).filter(pk=clinician_id).first()
        if clinician is None:
            raise PermissionDenied
    data = form.cleaned_data
    feed = FeedRequest(
        start=data["start"], end=data["end"], view=data["view"], location=location, clinician=clinician,
        show_cancelled=data["cancelled"],
    )  # fmt: skip
    home = location or (locations[0] if locations else None)
    zone = home.zone if home is not None else timezone.get_current_timezone()
    body = calendar_feed(
        user=request.user, request=feed, zone=zone, may_move=has_perm(request.user, Perm.SCHEDULE_BOOK)
    )
    # Patient names go to the grid: one entry per person and range (a refresh within minutes adds none).
    audit_read_coalesced(
        request=request,
        object_type="scheduling.calendar",
        detail=f"calendar {feed.view} {feed.start:%Y-%m-%d}..{feed.end:%Y-%m-%d} "
        f"location {location.pk if location else '-'} clinician {clinician.pk if clinician else '-'}",
    )
    return _json(body)


@require_perm(Perm.SCHEDULE_BOOK)
@require_http_methods(["POST"])
def calendar_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move (or, for a variable-length type, resize) a visit dropped on the grid, through `appointment_move`:
    the same checks and effects as the move form, and the reason when it is refused."""
    appointment = appointment_for_user(request.user, pk, Perm.SCHEDULE_BOOK)
    form = CalendarMoveForm(request.POST)
    if not form.is_valid():
        return _json({"error": form_problem(form)}, status=400)
    data = form.cleaned_data
    clinician = None
    if data["clinician"] is not None and data["clinician"] != appointment.clinician_id:
        clinician = clinician_choices().filter(pk=data["clinician"]).first()
        if clinician is None:
            return _json({"error": "clinician: choose a clinician from the calendar."}, status=400)
    zone = appointment.location.zone
    try:
        starts_at = local_to_utc(zone, data["date"], data["time"])
        new = services.appointment_move(
            appointment=appointment, starts_at=starts_at, clinician=clinician,
            actor=Actor.from_request(request), source=ChangeSource.STAFF,
            duration_minutes=data["duration_minutes"],
        )  # fmt: skip
    except ValueError as exc:  # a wall-clock time skipped by a daylight-saving change
        return _json({"error": str(exc)}, status=400)
    except ValidationError as exc:
        return _json({"error": " ".join(exc.messages)}, status=400)
    local = new.starts_at.astimezone(zone)
    return _json(
        {
            "id": new.pk,
            "message": f"Moved to {local:%a %d %b} at {local:%H:%M}–{new.ends_at.astimezone(zone):%H:%M}.",
        }
    )
