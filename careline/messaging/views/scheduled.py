"""Scheduled messages: the list of staff messages set to go later, with edit and cancel until they go."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_patient_access, audit_record
from careline.core.permissions import Perm, require_perm
from careline.messaging.forms.manage import ScheduledEditForm
from careline.messaging.models import Message
from careline.messaging.outbound.compose import MessageRefused, message_cancel, message_reschedule
from careline.messaging.queries.outbox import (
    message_for_user,
    message_location,
    scheduled_messages_visible_to,
)

LIST_LIMIT = 200


def _zone(message: Message) -> ZoneInfo:
    location = message_location(message)
    return location.zone if location is not None else ZoneInfo(str(timezone.get_default_timezone()))


def _audit(request: HttpRequest, message: Message, action: str, detail: str) -> None:
    if message.patient_id:
        audit_patient_access(
            request=request, action=action, patient_id=message.patient_id, obj=message, detail=detail
        )
    else:
        audit_record(request=request, action=action, obj=message, detail=detail)


@require_perm(Perm.INBOX_VIEW)
@require_GET
def scheduled_list(request: HttpRequest) -> HttpResponse:
    """Messages not yet sent, soonest first, each time shown in its location's zone."""
    rows = list(scheduled_messages_visible_to(request.user)[:LIST_LIMIT])
    for message in rows:
        message.local_due_at = message.due_at.astimezone(_zone(message)) if message.due_at else None  # type: ignore[attr-defined]
    audit_record(
        request=request,
        action=AuditAction.SEARCH,
        object_type="messaging.message",
        detail=f"scheduled messages; {len(rows)} shown",
    )
    context = {"scheduled": rows, "nav": "inbox", "messaging_tab": "scheduled"}
    return render(request, "messaging/scheduled_list.html", context)


@require_perm(Perm.INBOX_SEND)
@require_http_methods(["GET", "POST"])
def scheduled_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change the text or time of a scheduled message; refused once it has gone."""
    message = message_for_user(request.user, pk, Perm.INBOX_SEND)
    zone = _zone(message)
    if not (message.scheduled and message.state == "queued"):
        messages.error(
            request, "This message has already gone (or was cancelled); it can no longer be changed."
        )
        return HttpResponseRedirect(resolve_url("messaging:scheduled_list"))
    initial = {
        "body": message.body,
        "send_at": message.due_at.astimezone(zone).replace(tzinfo=None) if message.due_at else None,
    }
    form = ScheduledEditForm(request.POST or None, initial=initial, zone=zone)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                changed = message_reschedule(
                    message=message,
                    body=form.cleaned_data["body"],
                    send_at=form.cleaned_data["send_at"],
                    actor=Actor.from_request(request),
                )
            except MessageRefused as refusal:
                form.add_error("body", str(refusal))
                status = 400
            else:
                if changed:
                    _audit(request, message, AuditAction.UPDATE, "scheduled message: body, send_at")
                    messages.success(request, "The scheduled message is saved.")
                else:
                    messages.error(
                        request, "This message went out (or was cancelled) before your change was saved."
                    )
                return HttpResponseRedirect(resolve_url("messaging:scheduled_list"))
        else:
            status = 400
    else:
        _audit(request, message, AuditAction.VIEW, "scheduled message")
    context = {"form": form, "message": message, "patient": message.patient, "zone": zone, "nav": "inbox",
               "messaging_tab": "scheduled"}  # fmt: skip
    return render(request, "messaging/scheduled_form.html", context, status=status)


@require_perm(Perm.INBOX_SEND)
@require_POST
def scheduled_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel a scheduled message that has not gone yet."""
    message = message_for_user(request.user, pk, Perm.INBOX_SEND)
    if message.scheduled and message_cancel(message=message, actor=Actor.from_request(request)):
        _audit(request, message, AuditAction.UPDATE, "scheduled message cancelled")
        messages.success(request, "The scheduled message is cancelled; it will not be sent.")
    else:
        messages.error(
            request, "This message has already gone (or was cancelled); it can no longer be cancelled."
        )
    return HttpResponseRedirect(resolve_url("messaging:scheduled_list"))
