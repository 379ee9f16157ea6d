"""Messaging administration: channels, saved replies and each location's messaging policy."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render, resolve_url
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from careline.core.actor import Actor
from careline.core.permissions import Perm, require_perm
from careline.locations.models import Location
from careline.messaging.channels import channel_types
from careline.messaging.channels.base import ChannelType
from careline.messaging.forms.manage import ChannelForm, MessagingPolicyForm, SavedReplyForm
from careline.messaging.models import Channel, MessagingPolicy, SavedReply
from careline.messaging.outbound.policy import policy_window
from careline.messaging.queries.outbox import (
    locations_of,
    saved_replies_visible_to,
    saved_reply_editable_by,
    sees_all_locations,
)
from careline.messaging.services import admin as admin_services
from careline.messaging.templating import TemplateKind, TemplateProblem, template_problem


def _admin_context(tab: str, **extra: Any) -> dict[str, Any]:
    return {"nav": "admin", "admin_tab": tab, **extra}


def _apply(form: Any, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


# --- channels ------------------------------------------------------------------------------------------


@require_perm(Perm.CHANNEL_MANAGE)
@require_GET
def channel_list(request: HttpRequest) -> HttpResponse:
    """Every channel, the environment-configured one marked read-only, and a picker for a new one."""
    channels = list(Channel.objects.order_by("name", "pk"))
    types = [channel_type for channel_type in channel_types().values() if channel_type.configurable]
    context = _admin_context("channels", channels=channels, types=sorted(types, key=lambda t: t.name))
    return render(request, "messaging/admin/channel_list.html", context)


def _type_or_404(code: str, *, new: bool = False) -> ChannelType:
    channel_type = channel_types().get(code)
    if channel_type is None or (new and not channel_type.configurable):
        raise Http404("No such channel type")
    return channel_type


def _channel_initial(channel: Channel) -> dict[str, Any]:
    initial: dict[str, Any] = {
        "name": channel.name,
        "address": channel.address,
        "is_active": channel.is_active,
        "default_for": channel.default_for,
        "rate_per_second": channel.rate_per_second,
        "keyword_replies": channel.keyword_replies,
    }
    for key, value in (channel.config or {}).items():
        initial[f"config_{key}"] = value
    return initial


def _channel_form_page(
    request: HttpRequest, channel: Channel | None, channel_type: ChannelType
) -> HttpResponse:
    if channel is not None and channel.source == Channel.Source.ENVIRONMENT:
        context = _admin_context("channels", channel=channel, read_only=True, channel_type=channel_type)
        context["config_rows"] = sorted((channel.config or {}).items())
        return render(
            request,
            "messaging/admin/channel_form.html",
            context,
            status=200 if request.method == "GET" else 400,
        )
    initial = _channel_initial(channel) if channel else {"is_active": True, "keyword_replies": "careline"}
    form = ChannelForm(request.POST or None, initial=initial, channel_type=channel_type)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                saved = admin_services.channel_save(
                    channel=channel,
                    type_code=channel_type.code,
                    name=data["name"],
                    address=data["address"],
                    config=form.config(),
                    is_active=data["is_active"],
                    default_for=data["default_for"],
                    rate_per_second=data["rate_per_second"],
                    keyword_replies=data["keyword_replies"],
                    actor=Actor.from_request(request),
                )
            except ValidationError as error:
                _apply(form, error)
                status = 400
            else:
                messages.success(request, f"The channel “{saved.name}” is saved.")
                return HttpResponseRedirect(resolve_url("messaging:channel_list"))
        else:
            status = 400
    context = _admin_context(
        "channels", form=form, channel=channel, channel_type=channel_type, secrets=form.secret_status()
    )
    return render(request, "messaging/admin/channel_form.html", context, status=status)


@require_perm(Perm.CHANNEL_MANAGE)
@require_http_methods(["GET", "POST"])
def channel_create(request: HttpRequest, type_code: str) -> HttpResponse:
    """A new channel of one type, with the fields that type declares."""
    return _channel_form_page(request, None, _type_or_404(type_code, new=True))


@require_perm(Perm.CHANNEL_MANAGE)
@require_http_methods(["GET", "POST"])
def channel_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a channel; the one configured from environment variables is shown read-only."""
    channel = get_object_or_404(Channel, pk=pk)
    return _channel_form_page(request, channel, _type_or_404(channel.type_code))


# --- saved replies ------------------------------------------------------------------------------------


@require_perm(Perm.SAVED_REPLY_MANAGE)
@require_GET
def saved_reply_list(request: HttpRequest) -> HttpResponse:
    """Saved replies for every location and the user's own."""
    replies = list(saved_replies_visible_to(request.user))
    for reply in replies:
        reply.editable = saved_reply_editable_by(request.user, reply)  # type: ignore[attr-defined]
        # Saved before templates were checked: hidden from the conversation page until fixed.
        reply.problem = template_problem(reply.body, kind=TemplateKind.SAVED_REPLY)  # type: ignore[attr-defined]
    return render(
        request, "messaging/admin/saved_reply_list.html", _admin_context("saved_replies", replies=replies)
    )


def _reply_page(request: HttpRequest, reply: SavedReply | None) -> HttpResponse:
    user = request.user
    form = SavedReplyForm(
        request.POST or None, instance=reply, locations=locations_of(user), allow_all=sees_all_locations(user)
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                saved = admin_services.saved_reply_save(
                    reply=reply,
                    title=data["title"],
                    body=data["body"],
                    location=data["location"],
                    is_active=data["is_active"],
                    actor=Actor.from_request(request),
                )
            except TemplateProblem as problem:
                form.add_error("body", str(problem))
                status = 400
            else:
                messages.success(request, f"The saved reply “{saved.title}” is saved.")
                return HttpResponseRedirect(resolve_url("messaging:saved_reply_list"))
        else:
            status = 400
    context = _admin_context("saved_replies", form=form, reply=reply)
    return render(request, "messaging/admin/saved_reply_form.html", context, status=status)


def _editable_reply(request: HttpRequest, pk: int) -> SavedReply:
    reply = get_object_or_404(SavedReply, pk=pk)
    if not saved_reply_editable_by(request.user, reply):
        raise PermissionDenied
    return reply


@require_perm(Perm.SAVED_REPLY_MANAGE)
@require_http_methods(["GET", "POST"])
def saved_reply_create(request: HttpRequest) -> HttpResponse:
    """A new saved reply; its text may use only the allow-listed fields."""
    return _reply_page(request, None)


@require_perm(Perm.SAVED_REPLY_MANAGE)
@require_http_methods(["GET", "POST"])
def saved_reply_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a saved reply of one of the user's locations."""
    return _reply_page(request, _editable_reply(request, pk))


@require_perm(Perm.SAVED_REPLY_MANAGE)
@require_POST
def saved_reply_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove a saved reply."""
    reply = _editable_reply(request, pk)
    admin_services.saved_reply_delete(reply=reply, actor=Actor.from_request(request))
    messages.success(request, f"The saved reply “{reply.title}” is removed.")
    return HttpResponseRedirect(resolve_url("messaging:saved_reply_list"))


# --- messaging policies -------------------------------------------------------------------------------


@require_perm(Perm.CHANNEL_MANAGE)
@require_GET
def policy_list(request: HttpRequest) -> HttpResponse:
    """Each location's texting window and after-hours reply (defaults where none is set)."""
    locations = list(Location.objects.order_by("name"))
    policies = {policy.location_id: policy for policy in MessagingPolicy.objects.all()}
    rows = []
    for location in locations:
        policy = policies.get(location.pk) or MessagingPolicy(location=location)
        rows.append((location, policy, policy_window(policy)))
    context = _admin_context("policies", rows=rows, default_window=settings.CARELINE_TEXTING_WINDOW)
    return render(request, "messaging/admin/policy_list.html", context)


@require_perm(Perm.CHANNEL_MANAGE)
@require_http_methods(["GET", "POST"])
def policy_edit(request: HttpRequest, location_id: int) -> HttpResponse:
    """Set one location's texting window and after-hours reply."""
    location = get_object_or_404(Location, pk=location_id)
    policy = MessagingPolicy.objects.filter(location=location).first() or MessagingPolicy(location=location)
    form = MessagingPolicyForm(request.POST or None, instance=policy)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                admin_services.messaging_policy_save(
                    location=location,
                    window_start=data["window_start"],
                    window_end=data["window_end"],
                    after_hours_reply_enabled=data["after_hours_reply_enabled"],
                    after_hours_text=data["after_hours_text"],
                    after_hours_translations=form.translations(),
                    actor=Actor.from_request(request),
                )
            except ValidationError as error:
                _apply(form, error)
                status = 400
            else:
                messages.success(request, f"The messaging policy of {location.name} is saved.")
                return HttpResponseRedirect(resolve_url("messaging:policy_list"))
        else:
            status = 400
    context = _admin_context(
        "policies", form=form, location=location, default_window=settings.CARELINE_TEXTING_WINDOW
    )
    return render(request, "messaging/admin/policy_form.html", context, status=status)
