"""The staff calendar (a time grid by day, week or month; the visits come from `calendar_events`) and the
free-slot search."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from careline.core.dates import DateOutOfRangeError, parse_date, schedule_bounds
from careline.core.params import row_id
from careline.core.permissions import Perm, has_perm, require_perm
from careline.locations.queries import location_first_open_day
from careline.scheduling.forms.appointments import SlotSearchForm
from careline.scheduling.queries.appointments import (
    clinicians_visible_to,
    free_slots,
    locations_visible_to,
)
from careline.scheduling.queries.calendar import grid_hours

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


@require_perm(Perm.SCHEDULE_VIEW)
@require_http_methods(["GET"])
def slot_search(request: HttpRequest) -> HttpResponse:
    """Free slots of a type in a date range; each links to the booking form when the person may book."""
    locations = locations_visible_to(request.user)
    form = SlotSearchForm(request.GET or None, locations=locations)
    slots = []
    status = 200
    if request.GET:
        if form.is_valid():
            data = form.cleaned_data
            slots = free_slots(
                appointment_type=data["appointment_type"],
                start=data["start"],
                end=data["end"],
                clinician=data["clinician"],
                location=data["location"],
                limit=60,
            )
            visible = {loc.pk for loc in locations}
            slots = [
                s
                for s in slots
                if s.location.pk in visible and data["date_from"] <= s.local_start.date() <= data["date_to"]
            ]
        else:
            status = 400
    context = {
        "form": form,
        "slots": slots,
        "searched": bool(request.GET) and status == 200,
        "patient_id": row_id(request.GET.get("patient")),
        "may_book": has_perm(request.user, Perm.SCHEDULE_BOOK),
        "nav": "calendar",
    }
    return render(request, "scheduling/slots.html", context, status=status)
