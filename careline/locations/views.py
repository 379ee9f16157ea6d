"""Location administration: the list, and one form for details plus weekly opening hours."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render, resolve_url
from django.views.decorators.http import require_http_methods

from careline.core.actor import Actor
from careline.core.permissions import Perm, require_perm
from careline.locations import services
from careline.locations.forms import LocationForm
from careline.locations.models import Location, Weekday
from careline.locations.services import DETAIL_FIELDS


@require_perm(Perm.LOCATION_MANAGE)
@require_http_methods(["GET"])
def location_list(request: HttpRequest) -> HttpResponse:
    """Every location with its address, phone, time zone and weekly hours."""
    locations = list(Location.objects.prefetch_related("opening_hours").order_by("-is_active", "name"))
    rows = []
    for location in locations:
        by_day: dict[int, list[str]] = {}
        for period in location.opening_hours.all():
            by_day.setdefault(period.weekday, []).append(f"{period.opens:%H:%M}–{period.closes:%H:%M}")
        rows.append(
            {"location": location, "days": [(day.label, by_day.get(day.value, [])) for day in Weekday]}
        )
    return render(request, "locations/list.html", {"rows": rows, "nav": "admin", "admin_tab": "locations"})


@require_perm(Perm.LOCATION_MANAGE)
@require_http_methods(["GET", "POST"])
def location_create(request: HttpRequest) -> HttpResponse:
    """Add a location."""
    form = LocationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        location = services.location_create(
            details={field: form.cleaned_data[field] for field in DETAIL_FIELDS},
            hours=form.cleaned_data["hours"],
            actor=Actor.from_request(request),
        )
        messages.success(request, f"{location.name} is added.")
        return HttpResponseRedirect(resolve_url("locations:list"))
    context = {"form": form, "title": "New location", "nav": "admin", "admin_tab": "locations"}
    return render(request, "locations/form.html", context)


@require_perm(Perm.LOCATION_MANAGE)
@require_http_methods(["GET", "POST"])
def location_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a location's details and opening hours."""
    location = get_object_or_404(Location, pk=pk)
    hours = services.location_hours(location)
    # The form validates against its own copy, so the service still sees the stored values to compare.
    form = LocationForm(request.POST or None, instance=Location.objects.get(pk=pk), hours=hours)
    if request.method == "POST" and form.is_valid():
        services.location_update(
            location=location,
            details={field: form.cleaned_data[field] for field in DETAIL_FIELDS},
            hours=form.cleaned_data["hours"],
            actor=Actor.from_request(request),
        )
        messages.success(request, f"{location.name} is saved.")
        return HttpResponseRedirect(resolve_url("locations:list"))
    context = {
        "form": form,
        "location": location,
        "title": f"Edit {location.name}",
        "nav": "admin",
        "admin_tab": "locations",
    }
    return render(request, "locations/form.html", context)
