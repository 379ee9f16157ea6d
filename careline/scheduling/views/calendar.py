"""The staff calendar (day and week, by location or by clinician) and the free-slot search."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from careline.core.audit import AuditAction, audit_record
from careline.core.dates import DateOutOfRangeError, parse_date, schedule_bounds
from careline.core.params import row_id
from careline.core.permissions import Perm, has_perm, require_perm
from careline.scheduling.forms.appointments import SlotSearchForm
from careline.scheduling.queries.appointments import (
    calendar_for,
    clinicians_visible_to,
    free_slots,
    locations_visible_to,
)


@require_perm(Perm.SCHEDULE_VIEW)
@require_http_methods(["GET"])
def calendar(request: HttpRequest) -> HttpResponse:
    """Day or week of appointments by location (?location=) or by clinician (?clinician=)."""
    locations = list(locations_visible_to(request.user))
    day: date | None = None
    try:
        day = parse_date(request.GET.get("date", ""), schedule_bounds)
    except DateOutOfRangeError as exc:
        messages.warning(request, f"{exc} Showing today instead.")
    except ValueError:
        pass
    view = "week" if request.GET.get("view") == "week" else "day"
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
    if day is None:
        zone = (location or locations[0]).zone if (location or locations) else timezone.get_current_timezone()
        day = timezone.now().astimezone(zone).date()
    cal = calendar_for(user=request.user, view=view, day=day, location=location, clinician=clinician)
    # Patient names are on the page: one audit entry for the calendar view, naming the filter.
    audit_record(
        request=request,
        action=AuditAction.VIEW,
        object_type="scheduling.calendar",
        detail=f"calendar {view} {day:%Y-%m-%d} location {location.pk if location else '-'} "
        f"clinician {clinician.pk if clinician else '-'}",
    )
    context = {
        "cal": cal,
        "locations": locations,
        "clinicians": clinicians,
        "may_book": has_perm(request.user, Perm.SCHEDULE_BOOK),
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
