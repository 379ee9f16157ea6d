"""The shared team inbox: starting a conversation from a patient's page, the composer's segment counter and
a conversation's files. The conversation list (the layout's left pane) is in `views/inbox_list.py`; one
conversation (the middle and right panes, their live poll) is in `views/conversation.py`.

Parse -> authorize -> service/query -> render. Polling requests carry X-Careline-Background so they do not
keep a session alive; they are audited like any read, one entry per person, conversation and page per few
minutes (`audit_read_coalesced`, decided here, never by the header).
"""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from careline.core.audit import AuditAction, audit_patient_access, audit_record
from careline.core.params import row_id
from careline.core.permissions import Perm, has_perm, require_perm
from careline.core.phones import format_phone
from careline.messaging.models import Conversation
from careline.messaging.outbound.compose import (
    conversation_for,
    patient_sms_number,
)
from careline.messaging.queries import inbox as queries
from careline.messaging.segments import segment_info
from careline.messaging.services import attachments
from careline.patients.queries import patient_for_user

DETAIL_PANE = "inbox-detail"  # the id of the inbox's middle and right panes, swapped as one
LIST_PANE = "inbox-list-lazy"  # the placeholder a conversation page loads the list into once it is shown


def conversation_zone(conversation: Conversation) -> zoneinfo.ZoneInfo:
    """The zone times of CONVERSATION are shown in: the patient's, else the location's, else the clinic's."""
    if conversation.patient is not None:
        return conversation.patient.zone
    if conversation.location is not None:
        return conversation.location.zone
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def wants_detail_pane(request: HttpRequest) -> bool:
    """Whether REQUEST is HTMX swapping the inbox's detail pane (opening a conversation from the list)."""
    return request.headers.get("HX-Target") == DETAIL_PANE and not request.headers.get(
        "HX-History-Restore-Request"
    )


def wants_list_pane(request: HttpRequest) -> bool:
    """Whether REQUEST is HTMX filling the list pane of a conversation page loaded by its address."""
    return request.headers.get("HX-Target") == LIST_PANE and not request.headers.get(
        "HX-History-Restore-Request"
    )


@require_perm(Perm.INBOX_VIEW)
@require_http_methods(["GET", "POST"])
def conversation_start(request: HttpRequest) -> HttpResponse:
    """From a patient page: the conversation with the patient's number on the default SMS channel.

    Only a POST creates the conversation; a GET (an old link, a prefetch) opens an existing one or asks.
    """
    from careline.messaging.services.channels import channel_default

    patient_id = row_id(
        request.POST.get("patient") if request.method == "POST" else request.GET.get("patient")
    )
    if patient_id is None:
        raise Http404("No such patient")
    patient = patient_for_user(request.user, patient_id)
    number = patient_sms_number(patient)
    channel = channel_default("sms")
    if not number or channel is None:
        problem = (
            "has no phone number on file" if not number else "cannot be texted: no text channel is set up"
        )
        messages.error(request, f"{patient.display_name} {problem}.")
        return HttpResponseRedirect(reverse("patients:detail", args=[patient.pk]))
    if request.method == "POST":
        if not has_perm(request.user, Perm.INBOX_SEND):
            raise PermissionDenied
        conversation = conversation_for(channel=channel, contact=number, patient=patient)
        return HttpResponseRedirect(reverse("messaging:conversation", args=[conversation.pk]))
    existing = Conversation.objects.filter(channel=channel, contact=number).first()
    if existing is not None:
        return HttpResponseRedirect(reverse("messaging:conversation", args=[existing.pk]))
    context = {"patient": patient, "number": format_phone(number), "channel": channel, "nav": "inbox"}
    return render(request, "messaging/start.html", context)


@require_perm(Perm.INBOX_SEND)
@require_POST
def segments(request: HttpRequest) -> HttpResponse:
    """The live segment counter of the composer: '2 segments · GSM-7 · 140 left'."""
    body = request.POST.get("body", "")[: settings.CARELINE_MAX_MESSAGE_LENGTH * 2]
    info = segment_info(body)
    text = f"{info.segments} segment{'' if info.segments == 1 else 's'} · {info.encoding} · {info.remaining} left"
    if len(body) > settings.CARELINE_MAX_MESSAGE_LENGTH:
        text += f" · too long (at most {settings.CARELINE_MAX_MESSAGE_LENGTH} characters)"
    return HttpResponse(text, content_type="text/plain; charset=utf-8")


def conversation_read_audit(request: HttpRequest, conversation: Conversation, detail: str) -> None:
    """Record that the requester read CONVERSATION (naming its patient when it has one)."""
    if conversation.patient_id:
        audit_patient_access(
            request=request,
            action=AuditAction.VIEW,
            patient_id=conversation.patient_id,
            obj=conversation,
            detail=detail,
        )
    else:
        audit_record(request=request, action=AuditAction.VIEW, obj=conversation, detail=detail)


# --- attachments ----------------------------------------------------------------------------------------


def _file_response(path: str) -> HttpResponse:
    # Files are at most 5 MB, so reading one whole is fine; nosniff keeps browsers to the declared type.
    content_type = attachments.content_type_of(path)
    response = HttpResponse(attachments.media_read(path), content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    if not content_type.startswith("image/"):
        # A PDF a patient sent is downloaded, never rendered inside Careline's origin.
        response["Content-Disposition"] = "attachment"
    return response


@require_perm(Perm.INBOX_VIEW)
@require_GET
def media(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """A file of a conversation (an image or a patient's PDF), for staff who may read it; the read is audited."""
    conversation = queries.conversation_for_user(request.user, pk)
    path = attachments.media_path(conversation.pk, name)
    if path is None:
        raise Http404("No such file")
    conversation_read_audit(request, conversation, "file in the conversation")
    return _file_response(path)


@require_GET
def media_public(request: HttpRequest, token: str) -> HttpResponse:
    """An image for the SMS provider to fetch: the signed token is the only key, and it expires."""
    path = attachments.provider_media_path(token)
    if path is None:
        raise Http404("No such file")
    return _file_response(path)
