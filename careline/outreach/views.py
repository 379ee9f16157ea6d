"""Outreach pages: saved recall audiences with their preview, campaigns and their results, birthday messages."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.core.permissions import Perm, require_perm
from careline.locations.models import Location
from careline.messaging.outbound.policy import location_quiet_now, texting_window
from careline.messaging.services.channels import channel_default
from careline.messaging.templating import TemplateProblem
from careline.outreach.forms import AudienceForm, BirthdayForm, CampaignForm
from careline.outreach.models import Audience, BirthdaySetting, Campaign, CampaignState
from careline.outreach.queries import (
    audience_preview,
    audience_purpose,
    audiences_visible_to,
    campaign_results,
    campaigns_visible_to,
)
from careline.outreach.services.birthdays import birthday_setting_save
from careline.outreach.services.recalls import audience_save, campaign_cancel, campaign_create


def _locations(user: Any) -> Any:
    return Location.objects.filter(pk__in=user.location_ids).order_by("name")


def _audience(user: Any, pk: int) -> Audience:
    audience = audiences_visible_to(user).filter(pk=pk).first()
    if audience is None:
        raise Http404
    return audience


@require_perm(Perm.OUTREACH_MANAGE)
@require_http_methods(["GET"])
def index(request: HttpRequest) -> HttpResponse:
    """The audiences, the latest campaigns and each location's birthday messages."""
    locations = list(_locations(request.user))
    birthdays = {s.location_id: s for s in BirthdaySetting.objects.filter(location__in=locations)}
    audit_record(request=request, action=AuditAction.VIEW, object_type="outreach.audience", detail="list")
    return render(
        request,
        "outreach/index.html",
        {
            "nav": "outreach",
            "audiences": list(audiences_visible_to(request.user)),
            "campaigns": list(campaigns_visible_to(request.user)[:50]),
            "locations": [(location, birthdays.get(location.pk)) for location in locations],
        },
    )


@require_perm(Perm.OUTREACH_MANAGE)
@require_http_methods(["GET", "POST"])
def audience_create(request: HttpRequest) -> HttpResponse:
    """A new saved audience: a rule, its numbers and the location whose patients it finds."""
    form = AudienceForm(request.POST or None, locations=_locations(request.user))
    if request.method == "POST" and form.is_valid():
        audience = audience_save(audience=form.instance, actor=Actor.from_request(request))
        messages.success(request, "Audience saved. Check who it finds, then schedule a recall.")
        return HttpResponseRedirect(reverse("outreach:audience", args=[audience.pk]))
    return render(
        request,
        "outreach/audience_form.html",
        {"nav": "outreach", "form": form},
        status=400 if request.method == "POST" else 200,
    )


@require_perm(Perm.OUTREACH_MANAGE)
@require_http_methods(["GET", "POST"])
def audience(request: HttpRequest, pk: int) -> HttpResponse:
    """Who the audience finds now (count, who is skipped and why, the first rows) and the recall form."""
    found = _audience(request.user, pk)
    location = found.location
    form = CampaignForm(request.POST or None, zone=location.zone)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = campaign_create(
                audience=found,
                body=form.cleaned_data["body"],
                translations=form.cleaned_data["translations"],
                offer=form.cleaned_data["offer"],
                send_at=form.cleaned_data["send_at"] or timezone.now(),
                actor=Actor.from_request(request),
            )
        except (TemplateProblem, ValidationError) as problem:
            form.add_error(None, str(problem) if isinstance(problem, TemplateProblem) else problem)
        else:
            messages.success(request, "Recall scheduled.")
            return HttpResponseRedirect(reverse("outreach:campaign", args=[campaign.pk]))
    now = timezone.now()
    preview = audience_preview(
        found, today=now.astimezone(location.zone).date(), now=now, channel=channel_default("sms")
    )
    shown = ",".join(str(row.patient.pk) for row in preview.rows)
    audit_record(
        request=request,
        action=AuditAction.SEARCH,
        obj=found,
        detail=f"recall audience preview: {preview.due} due; patients shown {shown}"[:500],
    )
    window = texting_window(location)
    return render(
        request,
        "outreach/audience.html",
        {
            "nav": "outreach",
            "audience": found,
            "preview": preview,
            "form": form,
            "marketing": audience_purpose(found) == "marketing",
            "window": window,
            "quiet_now": location_quiet_now(location, now),
            "zone": location.zone,
        },
        status=400 if request.method == "POST" else 200,
    )


def _campaign(user: Any, pk: int) -> Campaign:
    campaign = campaigns_visible_to(user).filter(pk=pk).first()
    if campaign is None:
        raise Http404
    return campaign


@require_perm(Perm.OUTREACH_MANAGE)
@require_http_methods(["GET"])
def campaign(request: HttpRequest, pk: int) -> HttpResponse:
    """A campaign's results: sent, skipped and why, call-backs asked for, visits booked after it."""
    found = _campaign(request.user, pk)
    results = campaign_results(found)
    shown = ",".join(str(row.patient_id) for row in results.rows)
    audit_record(
        request=request,
        action=AuditAction.VIEW,
        obj=found,
        detail=f"recall campaign results; patients shown {shown}"[:500],
    )
    return render(
        request,
        "outreach/campaign.html",
        {
            "nav": "outreach",
            "campaign": found,
            "results": results,
            "zone": found.audience.location.zone,
            "cancellable": found.state == CampaignState.SCHEDULED,
            "result_days": settings.CARELINE_RECALL_RESULT_DAYS,
        },
    )


@require_perm(Perm.OUTREACH_MANAGE)
@require_http_methods(["POST"])
def campaign_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel a campaign that has not started sending."""
    found = _campaign(request.user, pk)
    if campaign_cancel(campaign=found, actor=Actor.from_request(request)):
        messages.success(request, "Recall cancelled: nothing was sent.")
    else:
        messages.error(request, "This recall has already started sending; it cannot be cancelled.")
    return HttpResponseRedirect(reverse("outreach:campaign", args=[found.pk]))


@require_perm(Perm.OUTREACH_MANAGE)
@require_http_methods(["GET", "POST"])
def birthdays(request: HttpRequest, location_id: int) -> HttpResponse:
    """A location's birthday messages: on or off, and the text."""
    location = _locations(request.user).filter(pk=location_id).first()
    if location is None:
        raise PermissionDenied
    setting = BirthdaySetting.objects.filter(location=location).first()
    initial = {"enabled": setting.enabled, "template": setting.template} if setting else {}
    form = BirthdayForm(
        request.POST or None, initial=initial, translations=setting.translations if setting else {}
    )
    if request.method == "POST" and form.is_valid():
        birthday_setting_save(
            location=location,
            enabled=form.cleaned_data["enabled"],
            template=form.cleaned_data["template"],
            translations=form.cleaned_data["translations"],
            actor=Actor.from_request(request),
        )
        messages.success(request, "Birthday messages saved.")
        return HttpResponseRedirect(reverse("outreach:index"))
    return render(
        request,
        "outreach/birthdays.html",
        {"nav": "outreach", "form": form, "location": location},
        status=400 if request.method == "POST" else 200,
    )
