"""One conversation of the team inbox: the thread, the composer and the patient beside it, and their live poll.

The conversation opens inside the inbox's split layout: from the list, HTMX swaps the detail pane (middle and
right, `#inbox-detail`) and pushes the URL; the same URL loaded directly renders the whole layout. Polling
requests carry X-Careline-Background so they do not keep a session alive; they are audited like any read,
one entry per person, conversation and page per few minutes (`audit_read_coalesced`, decided here, never by
the header).
"""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_patient_access, audit_read_coalesced, audit_record
from careline.core.params import row_id
from careline.core.permissions import Perm, has_perm, require_perm
from careline.core.phones import format_phone
from careline.core.times import staff_when
from careline.messaging.channels import channel_inbox_label
from careline.messaging.forms.inbox import ComposeForm, NoteForm, TagForm
from careline.messaging.models import Conversation, Message, MessageState, SuppressionReason
from careline.messaging.outbound.compose import MessageRefused, message_send, staff_reply_outlook
from careline.messaging.queries import inbox as queries
from careline.messaging.queries.inbox import ThreadEntry
from careline.messaging.queries.panel import patient_panel
from careline.messaging.queries.thread import (
    ThreadCursor,
    inbound_cursor,
    new_patient_messages,
    outbound_to_refresh,
    thread_entries_after,
    thread_version,
)
from careline.messaging.services import attachments
from careline.messaging.services.conversations import (
    conversation_assign_if_unassigned,
    conversation_mark_read,
)
from careline.messaging.services.inbound_media import PENDING, media_item_state
from careline.messaging.template_values import patient_values
from careline.messaging.templating import TemplateKind, template_problem, template_render
from careline.messaging.views.inbox import (
    conversation_read_audit,
    conversation_zone,
    wants_detail_pane,
)

# --- what became of a message, and what would become of a reply ----------------------------------------


def state_text(message: Message, zone: zoneinfo.ZoneInfo, user: Any = None) -> tuple[str, str]:
    """(words, tone) telling staff what became of an outbound MESSAGE (times in ZONE, as USER reads them)."""
    state = message.state
    if state == MessageState.SUPPRESSED:
        reason = message.get_suppression_reason_display() or "blocked"
        return f"Not sent: {reason[0].lower()}{reason[1:]}", "danger"
    if state == MessageState.QUEUED:
        if message.due_at and message.due_at > timezone.now():
            when = staff_when(message.due_at, user, zone)
            if message.held_for_quiet_hours:
                return f"Held for quiet hours until {when}", "warn"
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


def reply_outlook(conversation: Conversation, user: Any, *, may_send_urgent: bool = False) -> dict[str, str]:
    """The composer's notice before anything is typed: a reply would be held by quiet hours (until when, in
    the patient's or location's time) or not sent at all (why). Empty text when it would go now."""
    reason, release = staff_reply_outlook(conversation=conversation)
    if reason:
        label = str(SuppressionReason(reason).label)
        return {"text": f"A text sent now will not go: {label[0].lower()}{label[1:]}.", "tone": "danger"}
    if release is not None:
        zone = conversation_zone(conversation)
        text = (
            f"Quiet hours: a text sent now waits until {staff_when(release, user, zone)} ({zone.key} time)."
        )
        if may_send_urgent:
            text += " Mark it urgent (under More) only if it cannot wait."
        return {"text": text, "tone": "warn"}
    return {"text": "", "tone": ""}


# --- the thread ---------------------------------------------------------------------------------------


def _decorate(
    entries: list[ThreadEntry], conversation: Conversation, zone: zoneinfo.ZoneInfo, user: Any
) -> None:
    for entry in entries:
        message = entry.message
        if message is not None:
            if message.is_outbound:
                entry.extra["state_text"], entry.extra["tone"] = state_text(message, zone, user)
            due = message.media_due_at is not None
            entry.extra["media"] = [
                _media_entry(conversation, item, due=due) for item in message.media if isinstance(item, dict)
            ]


def _thread_context(
    request: HttpRequest, conversation: Conversation, before: queries.ThreadPosition | None = None
) -> dict[str, Any]:
    """The latest entries of the thread (or those before BEFORE), with where earlier ones start."""
    zone = conversation_zone(conversation)
    page = queries.conversation_thread(conversation, before=before)
    _decorate(page.entries, conversation, zone, request.user)
    message, note, event = page.newest
    return {
        "conversation": conversation,
        "entries": page.entries,
        "earlier": page.earlier,
        "zone": zone,
        # Where the live poll starts: the newest of each kind read, shown or not.
        "thread_cursor": ThreadCursor(message=message, note=note, event=event),
    }


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


def _contact_display(conversation: Conversation) -> str:
    contact = conversation.contact
    label = channel_inbox_label(conversation.channel.type_code)
    return label or (format_phone(contact) if contact.startswith("+") else contact)


def _state_context(request: HttpRequest, conversation: Conversation) -> dict[str, Any]:
    """What the header and the composer's notice show (re-sent by the live poll when it changes)."""
    from careline.patients.services.registry import consent_state

    contact = conversation.contact
    can_send = has_perm(request.user, Perm.INBOX_SEND)
    return {
        "conversation": conversation,
        "can_send": can_send,
        "contact_display": _contact_display(conversation),
        "banner_consent": consent_state(contact) if contact.startswith("+") else "unknown",
        "outlook": reply_outlook(
            conversation,
            request.user,
            may_send_urgent=can_send and has_perm(request.user, Perm.MESSAGE_URGENT),
        )
        if can_send
        else {"text": "", "tone": ""},
    }


def conversation_page_context(
    request: HttpRequest,
    conversation: Conversation,
    *,
    compose: ComposeForm | None = None,
    before: queries.ThreadPosition | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Everything the conversation's panes show (with BEFORE: the thread's entries before that position, the
    page "Earlier messages" opens without JavaScript, which has no live poll)."""
    patient = conversation.patient
    can_send = has_perm(request.user, Perm.INBOX_SEND)
    thread = _thread_context(request, conversation, before)
    state = _state_context(request, conversation)
    version = thread_version(conversation, outlook=state["outlook"]["text"])
    label = channel_inbox_label(conversation.channel.type_code)
    what = f"{label} messages" if label else "Texts"
    title = f"{what} with {patient.display_name if patient else state['contact_display']}"
    return {
        "nav": "inbox",
        "patient": patient,
        "conversation_title": title,
        "panel": patient_panel(request.user, conversation),
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
        "live_cursor": "" if before else thread["thread_cursor"].counted(conversation).query(version),
        "history": before is not None,
        **state,
        **thread,
        **extra,
    }


def render_conversation(request: HttpRequest, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    """The detail pane alone for HTMX (opening from the list, sending), else the whole inbox layout."""
    if wants_detail_pane(request):
        return render(
            request, "messaging/_conversation_pane.html", {**context, "partial": True}, status=status
        )
    # The list beside it is fetched once the page is shown (views/inbox_list.py, `wants_list_pane`): the
    # page itself costs the thread and the patient panel only.
    # The list's poll refreshes the navigation badge from there on: no second poll.
    page = {**context, "list_lazy": True, "nav_badges_refreshed_by_page": True}
    return render(request, "messaging/conversation.html", page, status=status)


def _audit_page(request: HttpRequest, conversation: Conversation, context: dict[str, Any]) -> None:
    conversation_read_audit(request, conversation, "conversation read")
    panel = context.get("panel")
    if panel is not None:
        # What the patient panel showed beside the thread (never the notes' text).
        audit_patient_access(
            request=request,
            action=AuditAction.VIEW,
            patient_id=panel.patient.pk,
            obj=panel.patient,
            detail="inbox patient panel: " + ", ".join(panel.read),
        )


@require_perm(Perm.INBOX_VIEW)
@require_http_methods(["GET", "POST"])
def conversation(request: HttpRequest, pk: int) -> HttpResponse:
    """One conversation: the thread, the composer (POST sends a text) and the patient beside it."""
    conversation = queries.conversation_for_user(request.user, pk)
    if request.method == "POST":
        return _send(request, conversation)
    conversation_mark_read(conversation=conversation, actor=Actor.from_request(request))
    before, status = None, 200
    if "before" in request.GET:
        # "Earlier messages" followed without JavaScript: the whole page with the entries before that position.
        before = queries.ThreadPosition.decode(request.GET.get("before", ""))
        if before is None:
            messages.error(request, EARLIER_REFUSED)
            status = 400
    context = conversation_page_context(request, conversation, before=before)
    _audit_page(request, conversation, context)
    return render_conversation(request, context, status=status)


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
            _audit_send(request, conversation, message, form, urgent=urgent)
            if settings.CARELINE_INBOX_ASSIGN_ON_REPLY and conversation.assigned_to_id is None:
                conversation_assign_if_unassigned(
                    conversation=conversation, assignee=request.user, actor=Actor.from_request(request)
                )
            if message.state == MessageState.SUPPRESSED:
                zone = conversation_zone(conversation)
                messages.warning(request, state_text(message, zone, request.user)[0] + ".")
            return HttpResponseRedirect(
                reverse("messaging:conversation", args=[conversation.pk]) + "#composer"
            )
    context = conversation_page_context(request, conversation, compose=form)
    return render_conversation(request, context, status=400)


def _audit_send(
    request: HttpRequest, conversation: Conversation, message: Message, form: ComposeForm, *, urgent: bool
) -> None:
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


# --- live updates -------------------------------------------------------------------------------------


@require_perm(Perm.INBOX_VIEW)
@require_GET
def conversation_thread(request: HttpRequest, pk: int) -> HttpResponse:
    """The live thread. With a cursor (`after`, `note`, `event`, their counts) and version (`v`): 204 when nothing
    changed, else the entries after the cursor (or the whole thread when a text arrived below it), the changed
    states and the next cursor. Without a cursor: the whole thread."""
    conversation = queries.conversation_for_user(request.user, pk)
    # Polled every few seconds: one entry per person and conversation per few minutes (the page's own
    # entry counts), whatever headers the request carries.
    audit_read_coalesced(
        request=request, obj=conversation, patient_id=conversation.patient_id, detail="conversation read"
    )
    conversation_mark_read(conversation=conversation, actor=Actor.from_request(request))
    if "before" in request.GET:
        return _earlier(request, conversation)
    cursor = ThreadCursor.from_query(request.GET)
    if cursor is None:
        return render(request, "messaging/_thread.html", _thread_context(request, conversation))
    state = _state_context(request, conversation)
    version = thread_version(conversation, outlook=state["outlook"]["text"])
    if request.GET.get("v") == version:
        return HttpResponse(status=204)
    zone = conversation_zone(conversation)
    if cursor.counted(conversation) != cursor:
        # A text, note or event committed late, with an id older than the page's newest: the whole thread again.
        thread = _thread_context(request, conversation)
        whole = thread["entries"]
        context = {
            "whole": whole,
            "earlier": thread["earlier"],
            "entries": [],
            "refresh": [],
            "next": thread["thread_cursor"],
        }
    else:
        entries = thread_entries_after(conversation, cursor)
        _decorate(entries, conversation, zone, request.user)
        refresh = outbound_to_refresh(conversation, cursor)
        for message in refresh:
            message.state_words, message.state_tone = state_text(message, zone, request.user)  # type: ignore[attr-defined]
        context = {"entries": entries, "refresh": refresh, "next": ThreadCursor.of(entries, cursor)}
    context.update(
        state,
        zone=zone,
        was_empty=cursor.message == cursor.note == cursor.event == 0,
        live_cursor=context["next"].counted(conversation).query(version),
        oob=True,
    )
    return render(request, "messaging/_thread_update.html", context)


def _earlier(request: HttpRequest, conversation: Conversation) -> HttpResponse:
    """ "Earlier messages": the entries before ?before= (a position the page wrote), with the next such link
    above them when more come before; a position Careline did not write is refused, nothing else happens."""
    position = queries.ThreadPosition.decode(request.GET.get("before", ""))
    if position is None:
        return HttpResponse(EARLIER_REFUSED, status=400, content_type="text/plain; charset=utf-8")
    return render(request, "messaging/_thread_earlier.html", _thread_context(request, conversation, position))


EARLIER_REFUSED = "Earlier messages could not be loaded: open the conversation again."


@require_perm(Perm.INBOX_VIEW)
@require_GET
def inbox_notices(request: HttpRequest) -> JsonResponse:
    """New patient messages since the cursor `after` in conversations assigned to the person or unassigned at
    their locations, for desktop notifications: who wrote (first name or number), never what."""
    raw = request.GET.get("after")
    after = 0 if raw == "0" else row_id(raw)  # 0: no patient text existed when the page started listening
    if after is None:
        return JsonResponse({"cursor": inbound_cursor(), "notices": []})
    found = new_patient_messages(request.user, after)
    notices = []
    named: set[int] = set()
    for message in found:
        conversation = message.conversation
        patient = conversation.patient
        sender = patient.first_name if patient is not None else _contact_display(conversation)
        if conversation.pk not in named:
            named.add(conversation.pk)
            audit_read_coalesced(
                request=request, obj=conversation, patient_id=conversation.patient_id, detail="inbox notice"
            )
        notices.append(
            {
                "conversation": conversation.pk,
                "url": reverse("messaging:conversation", args=[conversation.pk]),
                "title": f"New message from {sender}",
            }
        )
    cursor = max((message.pk for message in found), default=after)
    return JsonResponse({"cursor": cursor, "notices": notices})
