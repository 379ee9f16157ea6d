"""Twilio webhooks: inbound texts and delivery-status callbacks.

No sign-in: a request is trusted only when X-Twilio-Signature verifies with the channel's auth token
(403 and nothing stored otherwise). An inbound text is stored before the answer goes back, so Twilio's
retry of a slow answer finds it already there (de-duplicated by MessageSid). A status callback is appended
to StatusCallback (one INSERT) and applied in batches afterwards (outbound/status_callbacks.py).

Both run without the middleware (careline.core.lean): no session, user, page or CSRF token is involved,
and the channel comes from a per-process cache, so a request is the signature check and one INSERT.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from careline.core.lean import without_middleware
from careline.messaging.channels.base import InboundRejected
from careline.messaging.channels.twilio.type import TwilioType, twilio_channel_for
from careline.messaging.models import Channel, Message
from careline.messaging.outbound.status_callbacks import status_callback_store
from careline.messaging.services.channels import channel_from_environment
from careline.messaging.services.inbound import inbound_store

logger = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def _twiml() -> HttpResponse:
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


def _refused(reason: str, status: int = 403) -> HttpResponse:
    logger.warning("twilio webhook refused: %s", reason)
    return HttpResponse(reason, status=status, content_type="text/plain")


def _message_id(request: HttpRequest) -> int | None:
    raw = request.GET.get("m", "")
    return int(raw) if raw.isdecimal() and len(raw) < 19 else None


def _channel_for_status(request: HttpRequest, message_id: int | None) -> Channel | None:
    account_sid = request.POST.get("AccountSid", "")
    # The usual case from the per-process cache (no query); the batch checks the message is the account's.
    channel = twilio_channel_for(
        account_sid=account_sid,
        to=request.POST.get("From", ""),
        messaging_service_sid=request.POST.get("MessagingServiceSid", ""),
    )
    if channel is not None:
        return channel
    if message_id is not None:
        channel = Channel.objects.filter(
            type_code=TwilioType.code, messages__pk=message_id, messages__direction=Message.Direction.OUTBOUND
        ).first()
        if channel is not None and (channel.config or {}).get("account_sid") == account_sid:
            return channel
    channel = twilio_channel_for(
        account_sid=account_sid,
        to=request.POST.get("From", ""),
        messaging_service_sid=request.POST.get("MessagingServiceSid", ""),
    )
    if channel is None and channel_from_environment() is not None:
        channel = twilio_channel_for(
            account_sid=account_sid,
            to=request.POST.get("From", ""),
            messaging_service_sid=request.POST.get("MessagingServiceSid", ""),
        )
    return channel


def _channel_for_inbound(request: HttpRequest) -> Channel | None:
    def lookup() -> Channel | None:
        return twilio_channel_for(
            account_sid=request.POST.get("AccountSid", ""),
            to=request.POST.get("To", ""),
            messaging_service_sid=request.POST.get("MessagingServiceSid", ""),
        )

    channel = lookup()
    # Twilio does not retry a 4xx: before answering "no channel", make sure the one TWILIO_* describe exists
    # (a process started since the variables changed may not have reconciled it yet).
    if channel is None and channel_from_environment() is not None:
        channel = lookup()
    return channel


@without_middleware
@csrf_exempt
@require_POST
def twilio_inbound(request: HttpRequest) -> HttpResponse:
    """POST /webhooks/twilio/messages: a text (or MMS) from a patient."""
    if not request.headers.get("X-Twilio-Signature"):
        return _refused("missing signature")
    channel = _channel_for_inbound(request)
    if channel is None:
        return _refused("no channel for this account and number", status=404)
    kind = channel.type
    try:
        kind.verify_inbound(channel, request)
        inbound = kind.parse_inbound(channel, request)
    except InboundRejected as exc:
        return _refused(str(exc))
    # Stored (de-duplicated by MessageSid) before answering; matching, keywords and replies run in a task.
    message, created = inbound_store(channel=channel, inbound=inbound)
    logger.info(
        "twilio inbound %s as message %s on channel %s",
        "stored" if created else "repeated",
        message.pk,
        channel.pk,
    )
    return _twiml()


@without_middleware
@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    """POST /webhooks/twilio/status?m=<message id>: a delivery report for an outbound message."""
    if not request.headers.get("X-Twilio-Signature"):
        return _refused("missing signature")
    message_id = _message_id(request)
    channel = _channel_for_status(request, message_id)
    if channel is None:
        return _refused("no channel for this account and number", status=404)
    kind = channel.type
    try:
        kind.verify_inbound(channel, request)
        update = kind.parse_status(channel, request)
    except InboundRejected as exc:
        return _refused(str(exc))
    if update.state and (update.provider_message_id or message_id):
        # Stored before answering; applied with others in a batch, forward moves only.
        status_callback_store(
            channel_id=channel.pk,
            provider_message_id=update.provider_message_id,
            state=update.state,
            error_code=update.error_code,
            error_message=update.error_message,
            message_id=message_id,
            opted_out=update.opted_out,
            landline=update.landline,
        )
    return _twiml()
