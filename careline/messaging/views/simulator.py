"""The phone simulator: pick a patient's number, read what was texted to it, and answer as the patient.

Answers go through `simulator_inbound`, the same inbound path a provider's webhook uses. The page does not
exist (404) when CARELINE_SIMULATOR is off, which it always is in production.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from careline.core.audit import AuditAction, audit_read_coalesced, audit_record
from careline.core.params import row_id
from careline.core.permissions import Perm, require_perm
from careline.core.phones import format_phone, parse_phone
from careline.messaging.forms.inbox import SimulatorForm
from careline.messaging.models import Channel, Conversation, Message, MessageState
from careline.messaging.queries import inbox as queries
from careline.messaging.services.channels import simulator_channel
from careline.messaging.services.simulator import simulator_inbound, simulator_release_held

V = Callable[..., HttpResponse]


def simulator_enabled(view: V) -> V:
    """404 unless the simulator is turned on (never in production), before anything else is checked."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.CARELINE_SIMULATOR:
            raise Http404("The phone simulator is turned off")
        return view(request, *args, **kwargs)

    return wrapped


def _number_from(raw: str) -> tuple[str, str]:
    """(E.164, problem) for the number typed in the picker."""
    if not raw.strip():
        return "", ""
    try:
        return parse_phone(raw), ""
    except ValidationError as error:
        return "", " ".join(error.messages)


def _phone_conversation(user: Any, channel: Channel, number: str) -> Conversation | None:
    """The simulator conversation with NUMBER, if USER may read it (403 when it exists and is not theirs)."""
    conversation = (
        Conversation.objects.select_related("patient").filter(channel=channel, contact=number).first()
    )
    if (
        conversation is not None
        and not queries.conversations_visible_to(user).filter(pk=conversation.pk).exists()
    ):
        raise PermissionDenied
    return conversation


def _phone_context(user: Any, channel: Channel, number: str) -> dict[str, Any]:
    conversation = _phone_conversation(user, channel, number) if number else None
    texts = (
        list(Message.objects.filter(conversation=conversation).order_by("created_at", "id"))[-100:]
        if conversation
        else []
    )
    return {
        "number": number,
        "number_display": format_phone(number),
        "phone_conversation": conversation,
        "texts": texts,
    }


def _audit_read(request: HttpRequest, conversation: Conversation | None, *, polled: bool = False) -> None:
    """Record the texts shown; the polled screen once per person and number per few minutes."""
    if conversation is None:
        return
    detail = "phone simulator: texts to the number"
    if polled:
        audit_read_coalesced(
            request=request, obj=conversation, patient_id=conversation.patient_id, detail=detail
        )
    else:
        audit_record(
            request=request,
            action=AuditAction.VIEW,
            obj=conversation,
            patient_id=conversation.patient_id,
            detail=detail,
        )


@simulator_enabled
@require_perm(Perm.SIMULATOR_USE)
@require_http_methods(["GET", "POST"])
def simulator(request: HttpRequest) -> HttpResponse:
    """The simulated phone: a number picker, the texts sent to the number, and a box to answer."""
    channel = simulator_channel()
    status = 200
    if request.method == "POST":
        form = SimulatorForm(request.POST)
        if form.is_valid():
            number = form.cleaned_data["number"]
            _phone_conversation(request.user, channel, number)
            simulator_inbound(channel=channel, from_number=number, body=form.cleaned_data["body"])
            return HttpResponseRedirect(
                f"{reverse('messaging:simulator')}?{urlencode({'number': number})}#phone"
            )
        number, problem = _number_from(request.POST.get("number", ""))
        status = 400
    else:
        number, problem = _number_from(request.GET.get("number", ""))
        form = SimulatorForm(initial={"number": number})
        status = 400 if problem else 200
    context = {
        "nav": "inbox",
        "messaging_tab": "phone",
        "form": form,
        "problem": problem,
        "numbers": list(queries.simulator_numbers(request.user, channel.pk)[:50]),
        "held": _held_texts(request.user, channel),
        "channel": channel,
        **_phone_context(request.user, channel, number),
    }
    _audit_read(request, context["phone_conversation"])
    return render(request, "messaging/simulator.html", context, status=status)


@simulator_enabled
@require_perm(Perm.SIMULATOR_USE)
@require_GET
def simulator_thread(request: HttpRequest) -> HttpResponse:
    """The phone's screen alone, polled by the simulator page so new texts show up."""
    channel = simulator_channel()
    number, problem = _number_from(request.GET.get("number", ""))
    if problem or not number:
        return HttpResponse("Pick a number first.", status=400, content_type="text/plain; charset=utf-8")
    context = _phone_context(request.user, channel, number)
    _audit_read(request, context["phone_conversation"], polled=True)
    return render(request, "messaging/_simulator_screen.html", context)


def _held_texts(user: Any, channel: Channel) -> list[Message]:
    """Texts on the simulator channel waiting for quiet hours, in conversations USER may read."""
    return list(
        Message.objects.filter(
            channel=channel,
            direction=Message.Direction.OUTBOUND,
            state=MessageState.QUEUED,
            held_for_quiet_hours=True,
            conversation__in=queries.conversations_visible_to(user),
        )
        .select_related("conversation__patient")
        .order_by("due_at", "id")[:20]
    )


@simulator_enabled
@require_perm(Perm.SIMULATOR_USE)
@require_POST
def simulator_deliver_now(request: HttpRequest) -> HttpResponse:
    """Development only: a text held for quiet hours on the simulator goes now (real channels never)."""
    channel = simulator_channel()
    message_id = row_id(request.POST.get("message", ""))
    if message_id is None:
        return HttpResponseBadRequest("Say which held text to deliver.")
    message = (
        Message.objects.select_related("conversation")
        .filter(
            pk=message_id, channel=channel, conversation__in=queries.conversations_visible_to(request.user)
        )
        .first()
    )
    if message is None:
        raise Http404("No such text on the phone simulator")
    number = message.conversation.contact
    if simulator_release_held(channel=channel, message_id=message.pk):
        audit_record(
            request=request,
            action=AuditAction.UPDATE,
            obj=message,
            patient_id=message.patient_id,
            detail="phone simulator: text held for quiet hours released now (development only)",
        )
        messages.success(request, "The text goes to the simulated phone within a few seconds.")
    else:
        messages.info(request, "That text is no longer waiting for quiet hours.")
    return HttpResponseRedirect(f"{reverse('messaging:simulator')}?{urlencode({'number': number})}#phone")
