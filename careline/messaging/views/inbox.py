"""The shared team inbox: one conversation (thread, composer, live updates); the list is in inbox_list.py.

Parse -> authorize -> service/query -> render. Polling requests carry X-Careline-Background so they do not
keep a session alive; they are audited like any read, one entry per person, conversation and page per few
minutes (`audit_read_coalesced`, decided here, never by the header).
"""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_patient_access, audit_read_coalesced, audit_record
from careline.core.params import row_id
from careline.core.permissions import Perm, has_perm, require_perm
from careline.core.phones import format_phone
from careline.messaging.forms.inbox import ComposeForm, NoteForm, TagForm
from careline.messaging.models import Conversation, Message, MessageState
from careline.messaging.outbound.compose import (
    MessageRefused,
    conversation_for,
    message_send,
    patient_sms_number,
)
from careline.messaging.queries import inbox as queries
from careline.messaging.segments import segment_info
from careline.messaging.services import attachments
from careline.messaging.services.conversations import conversation_mark_read
from careline.messaging.services.inbound_media import PENDING, media_item_state
from careline.messaging.template_values import patient_values
from careline.messaging.templating import TemplateKind, template_problem, template_render
from careline.patients.queries import patient_for_user


def conversation_zone(conversation: Conversation) -> zoneinfo.ZoneInfo:
    """The zone times of CONVERSATION are shown in: the patient's, else the location's, else the clinic's."""
    if conversation.patient is not None:
        return conversation.patient.zone
    if conversation.location is not None:
        return conversation.location.zone
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


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


# --- one conversation -----------------------------------------------------------------------------------


def _state_text(message: Message, zone: zoneinfo.ZoneInfo) -> tuple[str, str]:
    """(words, tone) telling staff what became of an outbound MESSAGE."""
    state = message.state
    if state == MessageState.SUPPRESSED:
        reason = message.get_suppression_reason_display() or "blocked"
        return f"Not sent: {reason[0].lower()}{reason[1:]}", "danger"
    if state == MessageState.QUEUED:
        if message.due_at and message.due_at > timezone.now():
            when = timezone.localtime(message.due_at, zone).strftime("%b %d, %H:%M")
            if message.held_for_quiet_hours:
                return f"Waiting for the texting window: goes at {when}", "warn"
            if message.error_code:
                return (
                    f"Retrying at {when} after an error: {message.error_message or message.error_code}",
                    "warn",
                )
            return f"Scheduled for {when}", ""
        return "Queued to send", ""
    if state == MessageState.SENDING:
        return "Sending", ""
    if state == MessageState.SENT:
        return "Sent", ""
    if state == MessageState.DELIVERED:
        return "Delivered", "ok"
    if state in (MessageState.UNDELIVERED, MessageState.FAILED):
        label = "Not delivered" if state == MessageState.UNDELIVERED else "Failed"
        why = message.error_message or "the provider gave no reason"
        code = f" (code {message.error_code})" if message.error_code else ""
        return f"{label}: {why}{code}", "danger"
    if state == MessageState.CANCELLED:
        return "Cancelled before it was sent", ""
    return message.get_state_display(), ""


def _thread_context(request: HttpRequest, conversation: Conversation) -> dict[str, Any]:
    zone = conversation_zone(conversation)
    entries = queries.conversation_thread(conversation)
    for entry in entries:
        message = entry.message
        if message is not None:
            if message.is_outbound:
                entry.extra["state_text"], entry.extra["tone"] = _state_text(message, zone)
            due = message.media_due_at is not None
            entry.extra["media"] = [
                _media_entry(conversation, item, due=due) for item in message.media if isinstance(item, dict)
            ]
    return {"conversation": conversation, "entries": entries, "zone": zone}


def _media_entry(conversation: Conversation, item: dict[str, Any], *, due: bool) -> dict[str, str]:
    """How the thread shows one media item: a stored copy, "copying", a provider link (https), or a note."""
    content_type = str(item.get("content_type") or "")
    file = str(item.get("file") or "")
    state = media_item_state(item, due=due)
    if state == PENDING and not file:
        return {"kind": "copying", "url": "", "content_type": content_type}
    if file and "/" in file:
        url = reverse("messaging:media", args=[conversation.pk, file.split("/", 1)[1]])
        return {
            "kind": "image" if content_type.startswith("image/") else "file",
            "url": url,
            "content_type": content_type,
        }
    url = str(item.get("url") or "")
    if url and attachments.media_url_allowed(url):
        # Not copied (it could not be): a plain link, never an image loaded from the provider.
        return {
            "kind": "external",
            "url": url,
            "content_type": content_type,
            "error": str(item.get("error") or ""),
        }
    # A javascript:, data: or other address (rows stored before schemes were checked): shown, never linked.
    return {"kind": "withheld", "url": "", "content_type": content_type}


def _saved_replies(conversation: Conversation) -> list[dict[str, str]]:
    """Saved replies rendered for the linked patient (allow-listed fields only)."""
    patient = conversation.patient
    location = patient.primary_location if patient else conversation.location
    values = patient_values(patient=patient, location=location)
    rendered = []
    for reply in queries.saved_replies_for(conversation):
        if template_problem(reply.body, kind=TemplateKind.SAVED_REPLY):
            continue  # a reply saved before its template was checked; the saved replies page shows the problem
        text = template_render(reply.body, values, kind=TemplateKind.SAVED_REPLY)
        rendered.append({"title": reply.title, "text": text})
    return rendered


def conversation_page_context(
    request: HttpRequest, conversation: Conversation, *, compose: ComposeForm | None = None, **extra: Any
) -> dict[str, Any]:
    """Everything the conversation page shows."""
    from careline.patients.services.registry import consent_state

    patient = conversation.patient
    consent = consent_state(conversation.contact) if conversation.contact.startswith("+") else "unknown"
    can_send = has_perm(request.user, Perm.INBOX_SEND)
    context = {
        "nav": "inbox",
        "conversation": conversation,
        "patient": patient,
        "banner_consent": consent,
        "contact_display": format_phone(conversation.contact)
        if conversation.contact.startswith("+")
        else conversation.contact,
        "candidates": queries.conversation_candidates_for(request.user, conversation)
        if patient is None
        else [],
        "can_send": can_send,
        "can_opt_out": can_send and has_perm(request.user, Perm.CONSENT_RECORD),
        "can_send_urgent": can_send and has_perm(request.user, Perm.MESSAGE_URGENT),
        "compose": compose or ComposeForm(zone=conversation_zone(conversation)),
        "note_form": NoteForm(),
        "tag_form": TagForm(),
        "tags": list(conversation.tags.order_by("name")),
        "all_tags": queries.tags_in_use(),
        "staff": queries.assignable_staff(conversation) if can_send else [],
        "saved_replies": _saved_replies(conversation) if can_send else [],
        **_thread_context(request, conversation),
        **extra,
    }
    return context


def _audit_view(request: HttpRequest, conversation: Conversation, detail: str) -> None:
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


@require_perm(Perm.INBOX_VIEW)
@require_http_methods(["GET", "POST"])
def conversation(request: HttpRequest, pk: int) -> HttpResponse:
    """One conversation: the patient's header, the thread, and (POST) the composer sending a text."""
    conversation = queries.conversation_for_user(request.user, pk)
    if request.method == "POST":
        return _send(request, conversation)
    _audit_view(request, conversation, "conversation read")
    conversation_mark_read(conversation=conversation, actor=Actor.from_request(request))
    return render(request, "messaging/conversation.html", conversation_page_context(request, conversation))


def _send(request: HttpRequest, conversation: Conversation) -> HttpResponse:
    if not has_perm(request.user, Perm.INBOX_SEND):
        raise PermissionDenied
    form = ComposeForm(
        request.POST,
        request.FILES,
        zone=conversation_zone(conversation),
        may_send_urgent=has_perm(request.user, Perm.MESSAGE_URGENT),
    )
    if form.is_valid():
        urgent = bool(form.cleaned_data.get("urgent"))
        media: list[dict[str, str]] = []
        image = form.cleaned_data.get("image")
        if image:
            media.append(attachments.attachment_store(conversation_id=conversation.pk, upload=image))
        try:
            message = message_send(
                body=form.cleaned_data.get("body") or "",
                kind="staff",
                author=request.user,
                patient=conversation.patient,
                to_address=conversation.contact,
                channel=conversation.channel,
                send_at=form.cleaned_data.get("send_at"),
                media=media,
                urgent=urgent,
            )
        except MessageRefused as refused:
            for item in media:
                attachments.media_delete(item["file"])
            form.add_error(None, str(refused))
        else:
            detail = "text sent from the inbox" + (" (scheduled)" if message.scheduled else "")
            if urgent:
                detail += f" (urgent: not held by quiet hours; reason: {form.urgent_reason_label})"
            if conversation.patient_id:
                audit_patient_access(
                    request=request,
                    action=AuditAction.CREATE,
                    patient_id=conversation.patient_id,
                    obj=message,
                    detail=detail,
                )
            else:
                audit_record(request=request, action=AuditAction.CREATE, obj=message, detail=detail)
            if message.state == MessageState.SUPPRESSED:
                messages.warning(request, _state_text(message, conversation_zone(conversation))[0] + ".")
            return HttpResponseRedirect(
                reverse("messaging:conversation", args=[conversation.pk]) + "#composer"
            )
    context = conversation_page_context(request, conversation, compose=form)
    return render(request, "messaging/conversation.html", context, status=400)


@require_perm(Perm.INBOX_VIEW)
@require_GET
def conversation_thread(request: HttpRequest, pk: int) -> HttpResponse:
    """The thread alone, polled every few seconds by the conversation page: new texts appear by themselves."""
    conversation = queries.conversation_for_user(request.user, pk)
    # Polled every few seconds: one entry per person and conversation per few minutes (the page's own
    # entry counts), whatever headers the request carries.
    audit_read_coalesced(
        request=request, obj=conversation, patient_id=conversation.patient_id, detail="conversation read"
    )
    conversation_mark_read(conversation=conversation, actor=Actor.from_request(request))
    return render(request, "messaging/_thread.html", _thread_context(request, conversation))


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
    _audit_view(request, conversation, "file in the conversation")
    return _file_response(path)


@require_GET
def media_public(request: HttpRequest, token: str) -> HttpResponse:
    """An image for the SMS provider to fetch: the signed token is the only key, and it expires."""
    path = attachments.provider_media_path(token)
    if path is None:
        raise Http404("No such file")
    return _file_response(path)
