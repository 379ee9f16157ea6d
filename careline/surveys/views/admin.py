"""Administrators' survey settings per location (Perm.LOCATION_MANAGE)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render, resolve_url
from django.views.decorators.http import require_GET

from careline.accounts.models import User
from careline.core.actor import Actor
from careline.core.permissions import Perm, require_perm
from careline.locations.models import Location
from careline.surveys.forms import SurveySettingsForm
from careline.surveys.models import SurveySettings
from careline.surveys.services.settings import survey_settings_save


@require_perm(Perm.LOCATION_MANAGE)
@require_GET
def settings_list(request: HttpRequest) -> HttpResponse:
    """Every location with whether it asks, on which scale, and a link to its settings."""
    rows = {row.location_id: row for row in SurveySettings.objects.all()}
    locations = [(location, rows.get(location.pk)) for location in Location.objects.order_by("name")]
    return render(
        request,
        "surveys/settings_list.html",
        {"nav": "admin", "admin_tab": "surveys", "locations": locations},
    )


@require_perm(Perm.LOCATION_MANAGE)
def settings_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """One location's survey settings: on or off, scale, delay, follow-up, thresholds, manager, reviews."""
    location = get_object_or_404(Location, pk=pk)
    row = SurveySettings.objects.filter(location=location).first() or SurveySettings(location=location)
    managers = User.objects.filter(is_active=True, locations=location).order_by("full_name")
    form = SurveySettingsForm(request.POST or None, instance=row, managers=managers)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            survey_settings_save(settings_row=form.save(commit=False), actor=Actor.from_request(request),
                                 changed=list(form.changed_data))  # fmt: skip
            messages.success(request, f"The survey settings of {location.name} are saved.")
            return HttpResponseRedirect(resolve_url("surveys:settings_list"))
        status = 400
    return render(request, "surveys/settings_form.html", {"nav": "admin", "admin_tab": "surveys", "form": form, "location": location},
                  status=status)  # fmt: skip
