"""The staff calendar (a time grid by day, week or month; the visits come from `calendar_events`) and the
free-slot search."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import BadRequest, PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from careline.core.audit import AuditAction, audit_patient_access
from careline.core.dates import DateOutOfRangeError, parse_date, schedule_bounds
from careline.core.params import row_id
from careline.core.permissions import Perm, has_perm, require_perm
from careline.locations.queries import location_first_open_day
from careline.scheduling.forms.appointments import SlotSearchForm
from careline.scheduling.models import Appointment
from careline.scheduling.queries.appointments import (
    Slot,
    appointment_for_user,
    clinicians_visible_to,
    free_slots,
    locations_visible_to,
)
from careline.scheduling.queries.calendar import grid_hours
from careline.scheduling.visit_actions import VisitAction, visit_action_problem

CALENDAR_VIEWS = ("day", "week", "month")


@require_perm(Perm.SCHEDULE_VIEW)
@require_http_methods(["GET"])
def calendar(request: HttpRequest) -> HttpResponse:
    """The grid by location (?location=) or by clinician (?clinician=): today, or the location's next open day.

    The page holds no patient data (the grid loads the visits from `calendar_events`, which audits).
    """
    locations = list(locations_visible_to(request.user))
    day: date | None = None
    try:
        day = parse_date(request.GET.get("date", ""), schedule_bounds)
    except DateOutOfRangeError as exc:
        messages.warning(request, f"{exc} Showing today instead.")
    except ValueError:
        pass
    view = request.GET.get("view", "")
    view = view if view in CALENDAR_VIEWS else "day"
    location_id, clinician_id = row_id(request.GET.get("location")), row_id(request.GET.get("clinician"))
    location = next((loc for loc in locations if loc.pk == location_id), None)
    if location_id is not None and location is None:
        raise PermissionDenied
    clinicians = list(clinicians_visible_to(request.user))
    clinician = next((c for c in clinicians if c.pk == clinician_id), None)
    if clinician_id is not None and clinician is None:
        raise PermissionDenied
    if location is None and clinician is None and locations:
        location = locations[0]
    home = location or (locations[0] if locations else None)
    zone = home.zone if home is not None else timezone.get_current_timezone()
    if day is None:
        today = timezone.now().astimezone(zone).date()
        day = location_first_open_day(home, today) if home is not None else today
    offset = timezone.now().astimezone(zone).strftime("%z")
    first_hour, last_hour = grid_hours(location=location, clinician=clinician)
    context = {
        "day": day,
        "view": view,
        "location": location,
        "clinician": clinician,
        "zone": zone,
        "utc_offset": f"{offset[:3]}:{offset[3:]}",
        "first_hour": first_hour,
        "last_hour": last_hour,
        "locations": locations,
        "clinicians": clinicians,
        "may_book": has_perm(request.user, Perm.SCHEDULE_BOOK),
        "show_cancelled": request.GET.get("cancelled") == "1",
        "nav": "calendar",
    }
    return render(request, "scheduling/calendar.html", context)


SLOT_SEARCH_DAYS = 14  # the range searched at once when a visit or a booking opens the search


def _moving(request: HttpRequest) -> tuple[Appointment | None, str]:
    """The visit `?move=<id>` names (404 when none, 403 when not the person's to move) and why it cannot move."""
    raw = request.GET.get("move")
    if raw is None:
        return None, ""
    pk = row_id(raw)
    if pk is None:
        raise BadRequest("That is not a visit number.")
    appointment = appointment_for_user(request.user, pk, Perm.SCHEDULE_BOOK)
    return appointment, visit_action_problem(appointment, VisitAction.MOVE, timezone.now())


@require_perm(Perm.SCHEDULE_VIEW)
@require_http_methods(["GET"])
def slot_search(request: HttpRequest) -> HttpResponse:
    """Free slots of a type in a date range; each links to the booking form, or with `?move=` to moving that visit.

    Opened from a booking (`?appointment_type=&clinician=`) or a visit (`?move=<id>`), the type and clinician
    are filled in and the next two weeks searched at once.
    """
    try:
        moving, move_problem = _moving(request)
    except BadRequest as exc:
        refused = {"form": None, "bad_request": str(exc), "nav": "calendar"}
        return render(request, "scheduling/slots.html", refused, status=400)
    locations = locations_visible_to(request.user)
    data = request.GET.copy()
    for key in ("move", "patient"):
        data.pop(key, None)
    if moving is not None:
        # A move keeps the visit's type; the clinician is where the person starts from.
        data["appointment_type"] = str(moving.appointment_type_id)
        if "date_from" not in request.GET:
            data.setdefault("clinician", str(moving.clinician_id))
    if data.get("appointment_type") and not data.get("date_from") and not data.get("date_to"):
        zone = moving.location.zone if moving is not None else timezone.get_current_timezone()
        today = timezone.now().astimezone(zone).date()
        data["date_from"] = today.isoformat()
        data["date_to"] = (today + timedelta(days=SLOT_SEARCH_DAYS - 1)).isoformat()
    searching = any(data.get(key) for key in ("appointment_type", "date_from", "date_to"))
    form = SlotSearchForm(
        data if searching else None, initial=data.dict() if not searching else None, locations=locations
    )
    if moving is not None:
        form.fields["appointment_type"].disabled = True
        form.fields["appointment_type"].initial = moving.appointment_type_id
    slots: list[Slot] = []
    status = 200
    if searching:
        if form.is_valid():
            wanted = form.cleaned_data
            slots = free_slots(
                appointment_type=wanted["appointment_type"],
                start=wanted["start"],
                end=wanted["end"],
                clinician=wanted["clinician"],
                location=wanted["location"],
                limit=60,
            )
            visible = {loc.pk for loc in locations}
            slots = [
                s
                for s in slots
                if s.location.pk in visible
                and wanted["date_from"] <= s.local_start.date() <= wanted["date_to"]
            ]
        else:
            status = 400
    if moving is not None:
        audit_patient_access(request=request, action=AuditAction.VIEW, patient_id=moving.patient_id, obj=moving,
                             detail="appointment: free slots to move to")  # fmt: skip
    context: dict[str, Any] = {
        "form": form,
        "slots": slots,
        "searched": searching and status == 200,
        "patient_id": row_id(request.GET.get("patient")) if moving is None else None,
        "moving": moving,
        # A move is about one patient: base.html shows their banner (and pinned alerts).
        "patient": moving.patient if moving is not None else None,
        "move_problem": move_problem,
        "may_book": has_perm(request.user, Perm.SCHEDULE_BOOK),
        "nav": "calendar",
    }
    return render(request, "scheduling/slots.html", context, status=status)
