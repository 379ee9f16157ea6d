"""Secure messages with the care team: the patient's portal conversations, one thread, sending, files."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages as flash
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from careline.core.audit import AuditAction, audit_record
from careline.messaging.channels.portal.conversations import (
    HELP_TOPIC,
    MESSAGES_TOPIC,
    portal_conversation,
    portal_topic,
)
from careline.messaging.models import Conversation
from careline.messaging.outbound.compose import MessageRefused
from careline.messaging.services.attachments import content_type_of, media_path, media_read
from careline.portal.access import PortalSession, portal_view
from careline.portal.forms.messages import PortalMessageForm
from careline.portal.models import PortalSection
from careline.portal.queries.messages import conversation_of, conversations_for, file_of, thread_messages
from careline.portal.services.help import help_message_receive
from careline.portal.services.messages import portal_message_send
from careline.portal.services.reading import portal_thread_mark_read


def _session(request: HttpRequest) -> PortalSession:
    session: PortalSession = request.portal  # type: ignore[attr-defined]
    return session


def _send(request: HttpRequest, session: PortalSession, conversation: Conversation | None, form: Any) -> Any:
    """Send FORM's message into CONVERSATION (None: the care-team thread, made on first use).

    Returns (conversation, urgent, on_call_told) or None when the message was refused (FORM then has the error).
    """
    text = form.cleaned_data.get("text") or ""
    files = form.cleaned_data.get("attachments") or []
    try:
        if conversation is not None and portal_topic(conversation) == HELP_TOPIC:
            answer = help_message_receive(
                actor=session.actor, patient=session.patient, text=text, attachments=files
            )
            return answer.conversation, answer.urgent, answer.on_call_told
        conversation = conversation or portal_conversation(patient=session.patient, topic=MESSAGES_TOPIC)
        sent = portal_message_send(
            actor=session.actor, conversation=conversation, text=text, attachments=files
        )
    except ValidationError as error:
        form.add_error("attachments", error)
        return None
    except MessageRefused:
        limit = settings.CARELINE_MAX_MESSAGE_LENGTH
        form.add_error("text", _("Write a message of at most %(count)s characters.") % {"count": limit})
        return None
    return conversation, sent.urgent, sent.on_call_told


def _after_send(
    request: HttpRequest, conversation: Conversation, urgent: bool, on_call_told: bool
) -> HttpResponse:
    if on_call_told:
        flash.warning(
            request, _("The clinic is closed now. We have told the clinician on call about your message.")
        )
    if urgent:
        flash.error(
            request,
            _(
                "If this is an emergency, call 911 now. If you are thinking about suicide or are in crisis, "
                "call or text 988."
            ),
        )
    else:
        flash.success(request, _("Your message was sent to the care team."))
    return HttpResponseRedirect(reverse("portal:message_thread", args=[conversation.pk]) + "#composer")


@portal_view(section=PortalSection.MESSAGES)
@require_http_methods(["GET", "POST"])
def messages(request: HttpRequest) -> HttpResponse:
    """The patient's conversations with the care team (and the help chat), and a new message (POST)."""
    session = _session(request)
    form = PortalMessageForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            sent = _send(request, session, None, form)
            if sent is not None:
                return _after_send(request, *sent)
        status = 400
    conversations = conversations_for(session.account, session.patient.pk)
    for conversation in conversations:
        conversation.is_help = portal_topic(conversation) == HELP_TOPIC  # type: ignore[attr-defined]
    audit_record(
        actor=session.actor,
        action=AuditAction.VIEW,
        obj=session.patient,
        patient_id=session.patient.pk,
        detail=f"portal messages list ({len(conversations)} conversations)",
    )
    context = {"nav": "messages", "conversations": conversations, "form": form}
    return render(request, "portal/messages/list.html", context, status=status)


@portal_view(section=PortalSection.MESSAGES)
@require_http_methods(["GET", "POST"])
def message_thread(request: HttpRequest, pk: int) -> HttpResponse:
    """One conversation: its messages (marked read for this account) and a reply (POST)."""
    session = _session(request)
    conversation = conversation_of(session.patient.pk, pk)
    form = PortalMessageForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            sent = _send(request, session, conversation, form)
            if sent is not None:
                return _after_send(request, *sent)
        status = 400
    entries = thread_messages(conversation)
    portal_thread_mark_read(account=session.account, conversation=conversation, messages=entries)
    audit_record(
        actor=session.actor,
        action=AuditAction.VIEW,
        obj=conversation,
        patient_id=session.patient.pk,
        detail="portal conversation read",
    )
    context = {
        "nav": "messages",
        "conversation": conversation,
        "is_help": portal_topic(conversation) == HELP_TOPIC,
        "entries": entries,
        "form": form,
    }
    return render(request, "portal/messages/thread.html", context, status=status)


@portal_view(section=PortalSection.MESSAGES)
@require_GET
def message_file(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """A file of a message in one of the patient's conversations (a download, never shown inline)."""
    session = _session(request)
    conversation = conversation_of(session.patient.pk, pk)
    item = file_of(conversation, name)
    path = media_path(conversation.pk, name) if item is not None else None
    if path is None:
        raise Http404("no such file")
    audit_record(
        actor=session.actor,
        action=AuditAction.VIEW,
        obj=conversation,
        patient_id=session.patient.pk,
        detail="portal message file downloaded",
    )
    # At most 5 MB (nothing larger is stored): read whole, sent as a download, never shown inline.
    response = HttpResponse(media_read(path), content_type=content_type_of(path))
    response["Content-Disposition"] = f'attachment; filename="attachment.{path.rsplit(".", 1)[-1]}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response
