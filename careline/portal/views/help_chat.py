"""The help chat: a help button on every portal page opens it; it answers at any hour.

Without JavaScript it is a form posted to this page, which answers with the page again (the answer on top);
with it, `portal/help_chat.js` posts the same form and swaps the answer and the transcript in place.
The transcript (the record's help conversation) is shown only to those who may read the record's messages;
anyone signed in may ask and sees the answer to what they just asked.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from careline.core.audit import AuditAction, audit_record
from careline.messaging.channels.portal.conversations import (
    HELP_TOPIC,
    portal_contact,
    portal_conversations_of,
)
from careline.messaging.models import Message
from careline.messaging.outbound.compose import MessageRefused
from careline.portal.access import PortalSession, portal_view
from careline.portal.forms.messages import HelpChatForm
from careline.portal.models import PortalSection
from careline.portal.queries.messages import thread_messages
from careline.portal.services.help import HelpAnswer, help_message_receive
from careline.portal.services.reading import portal_thread_mark_read


def _transcript(session: PortalSession) -> list[Message]:
    """The help conversation's messages, when this account may read the record's messages; else none."""
    if not session.may(PortalSection.MESSAGES):
        return []
    contact = portal_contact(session.patient.pk, HELP_TOPIC)
    conversation = portal_conversations_of(session.patient.pk).filter(contact=contact).first()
    if conversation is None:
        return []
    entries = thread_messages(conversation, limit=50)
    portal_thread_mark_read(account=session.account, conversation=conversation, messages=entries)
    audit_record(
        actor=session.actor,
        action=AuditAction.VIEW,
        obj=conversation,
        patient_id=session.patient.pk,
        detail="portal help chat read",
    )
    return entries


@portal_view()
@require_http_methods(["GET", "POST"])
def help_chat(request: HttpRequest) -> HttpResponse:
    """The help chat (GET), and a question to it (POST: answered on the same page)."""
    session: PortalSession = request.portal  # type: ignore[attr-defined]
    form = HelpChatForm(request.POST or None, request.FILES or None)
    answer: HelpAnswer | None = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                answer = help_message_receive(
                    actor=session.actor,
                    patient=session.patient,
                    text=form.cleaned_data.get("text") or "",
                    attachments=form.cleaned_data.get("attachments") or [],
                )
            except ValidationError as error:
                form.add_error("attachments", error)
            except MessageRefused:
                limit = settings.CARELINE_MAX_MESSAGE_LENGTH
                form.add_error(
                    "text", _("Write a message of at most %(count)s characters.") % {"count": limit}
                )
            else:
                form = HelpChatForm()
        if answer is None:
            status = 400
    else:
        audit_record(
            actor=session.actor,
            action=AuditAction.VIEW,
            obj=session.patient,
            patient_id=session.patient.pk,
            detail="portal help chat opened",
        )
    context = {
        "nav": "help",
        "form": form,
        "answer": answer,
        "transcript": _transcript(session),
        "may_read_messages": session.may(PortalSection.MESSAGES),
    }
    return render(request, "portal/help_chat/chat.html", context, status=status)
