"""Inbound texts: stored once (provider retries and concurrent deliveries included), matched to patients,
threaded, and answered for compliance keywords and after hours."""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from careline.messaging.after_hours import closed_period_start
from careline.messaging.channels.base import InboundMessage
from careline.messaging.keywords import (
    Keyword,
    is_conditional_opt_in,
    looks_like_opt_out,
    match_keyword,
    normalize_keyword,
)
from careline.messaging.models import (
    Channel,
    Conversation,
    ConversationEvent,
    KeywordReplies,
    Message,
    MessageKind,
    MessageState,
    MessagingPolicy,
)
from careline.patients.models import ConsentKind, ConsentMethod, Patient, PatientPhone

logger = logging.getLogger(__name__)

PROVIDER_OPT_OUT_TYPES = {"STOP": Keyword.OPT_OUT, "START": Keyword.OPT_IN, "HELP": Keyword.HELP}


def patients_for_number(number: str) -> list[Patient]:
    """Every patient with NUMBER among their phones (a family phone gives several)."""
    return list(
        Patient.objects.filter(pk__in=PatientPhone.objects.filter(number=number).values("patient_id"))
        .select_related("primary_location")
        .order_by("pk")
    )


def inbound_receive(*, channel: Channel, inbound: InboundMessage) -> Message:
    """Store INBOUND exactly once and act on it; a repeat of the same provider id returns the first row."""
    existing = Message.objects.filter(
        channel=channel, provider_message_id=inbound.provider_message_id
    ).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            message, conversation = _store(channel=channel, inbound=inbound)
            _act_on(channel=channel, conversation=conversation, message=message, inbound=inbound)
    except IntegrityError:
        # Another delivery of the same webhook stored it first; its transaction did the side effects.
        return Message.objects.get(channel=channel, provider_message_id=inbound.provider_message_id)
    return message


def _store(*, channel: Channel, inbound: InboundMessage) -> tuple[Message, Conversation]:
    now = timezone.now()
    candidates = patients_for_number(inbound.from_address)
    single = candidates[0] if len(candidates) == 1 else None
    conversation, _ = Conversation.objects.get_or_create(
        channel=channel,
        contact=inbound.from_address,
        defaults={"patient": single, "location": single.primary_location if single else None},
    )
    message = Message.objects.create(
        conversation=conversation,
        channel=channel,
        patient=conversation.patient or single,
        direction=Message.Direction.INBOUND,
        kind=MessageKind.PATIENT,
        to_address=inbound.to_address or channel.address,
        from_address=inbound.from_address,
        body=inbound.body,
        media=inbound.media,
        state=MessageState.RECEIVED,
        provider_message_id=inbound.provider_message_id,
    )
    Conversation.objects.filter(pk=conversation.pk).update(
        last_message_at=now,
        last_inbound_at=now,
        unread_count=F("unread_count") + 1,
        status=Conversation.Status.OPEN,
    )
    # The same values in memory (a refresh would cost a query on every inbound text).
    conversation.last_message_at = conversation.last_inbound_at = now
    conversation.unread_count += 1
    conversation.status = Conversation.Status.OPEN
    return message, conversation


def _act_on(
    *, channel: Channel, conversation: Conversation, message: Message, inbound: InboundMessage
) -> None:
    from careline.patients.services.registry import CONSENT_REVOKED, consent_state

    keyword = PROVIDER_OPT_OUT_TYPES.get(inbound.opt_out_type.upper()) if inbound.opt_out_type else None
    keyword = keyword or match_keyword(inbound.body)
    if (
        keyword is Keyword.OPT_IN
        and is_conditional_opt_in(inbound.body)
        and consent_state(inbound.from_address) != CONSENT_REVOKED
    ):
        keyword = None  # an everyday "yes", not a request to opt back in
    provider_answers = channel.keyword_replies == KeywordReplies.PROVIDER
    if keyword is Keyword.OPT_OUT:
        _opt_out(conversation=conversation, message=message, reply=not provider_answers, inbound=inbound)
    elif keyword is Keyword.OPT_IN:
        _opt_in(conversation=conversation, message=message, reply=not provider_answers)
    elif keyword is Keyword.HELP:
        if not provider_answers:
            _reply(conversation, message, "help", _help_text(conversation))
    else:
        if looks_like_opt_out(inbound.body):
            Conversation.objects.filter(pk=conversation.pk).update(opt_out_suspected=True)
            ConversationEvent.objects.create(
                conversation=conversation,
                kind=ConversationEvent.Kind.FLAGGED,
                detail="may be asking to stop texts",
            )
        from careline.messaging.replies import reply_handlers_run

        if reply_handlers_run(conversation, message):
            return
        _after_hours_reply(conversation=conversation, message=message)


def _location_facts(conversation: Conversation) -> dict[str, str]:
    from careline.core.phones import format_phone

    location = conversation.location or (
        conversation.patient.primary_location if conversation.patient else None
    )
    if location is None:
        from careline.locations.models import Location

        location = Location.objects.filter(is_active=True).order_by("pk").first()
    return {
        "location_name": location.name if location else "Your clinic",
        "location_phone": format_phone(location.phone) if location else "",
    }


def _help_text(conversation: Conversation) -> str:
    facts = _location_facts(conversation)
    phone = f" Call us at {facts['location_phone']}." if facts["location_phone"] else ""
    return (
        f"{facts['location_name']}: patient messages.{phone} Reply STOP to opt out. Msg&data rates may apply."
    )


def _reply(
    conversation: Conversation,
    message: Message,
    purpose: str,
    body: str,
    kind: str = MessageKind.KEYWORD_REPLY,
) -> Message:
    from careline.messaging.services.outbound import message_send

    return message_send(
        body=body,
        patient=conversation.patient,
        to_address=conversation.contact,
        channel=conversation.channel,
        kind=kind,
        idempotency_key=f"reply:{purpose}:{message.pk}",
    )


def _opt_out(*, conversation: Conversation, message: Message, reply: bool, inbound: InboundMessage) -> None:
    from careline.patients.services.registry import consent_record

    word = normalize_keyword(inbound.body) or inbound.opt_out_type.upper()
    consent_record(
        phone_number=conversation.contact,
        kind=ConsentKind.REVOKED,
        method=ConsentMethod.KEYWORD if reply else ConsentMethod.PROVIDER,
        patient=conversation.patient,
        recorded_by=None,
        note=f"replied {word[:20]}",
    )
    ConversationEvent.objects.create(
        conversation=conversation, kind=ConversationEvent.Kind.OPTED_OUT, detail=f"replied {word[:20]}"
    )
    meant_visit = word in {"CANCEL", "CANCELAR"}
    if meant_visit:
        Conversation.objects.filter(pk=conversation.pk).update(visit_cancel_suspected=True)
    if reply:
        facts = _location_facts(conversation)
        text = f"{facts['location_name']}: You are unsubscribed and will get no more texts. Reply START to opt back in."
        if meant_visit:
            phone = f" call {facts['location_phone']}" if facts["location_phone"] else " call us"
            text += f" To cancel a visit,{phone} or use the patient portal."
        _reply(conversation, message, "opt-out", text)


def _opt_in(*, conversation: Conversation, message: Message, reply: bool) -> None:
    from careline.patients.services.registry import consent_record

    consent_record(
        phone_number=conversation.contact,
        kind=ConsentKind.GIVEN,
        method=ConsentMethod.KEYWORD if reply else ConsentMethod.PROVIDER,
        patient=conversation.patient,
        recorded_by=None,
        note="replied to opt back in",
    )
    ConversationEvent.objects.create(conversation=conversation, kind=ConversationEvent.Kind.OPTED_IN)
    if reply:
        facts = _location_facts(conversation)
        _reply(
            conversation,
            message,
            "opt-in",
            f"{facts['location_name']}: You are subscribed to texts again. Reply HELP for help, STOP to opt out.",
        )


def _after_hours_reply(*, conversation: Conversation, message: Message) -> None:
    """Answer once per closed period with the location's after-hours text and emergency guidance."""
    location = conversation.location
    if location is None:
        return
    policy = MessagingPolicy.objects.filter(location=location).first()
    if policy is not None and not policy.after_hours_reply_enabled:
        return
    period = closed_period_start(location, timezone.now())
    if period is None:
        return
    claimed = (
        Conversation.objects.filter(pk=conversation.pk)
        .exclude(after_hours_replied_for=period)
        .update(after_hours_replied_for=period)
    )
    if not claimed:
        return
    from careline.messaging.templating import TemplateProblem, template_render

    template = (
        policy.after_hours_text if policy else MessagingPolicy._meta.get_field("after_hours_text").default
    )
    try:
        text = template_render(template, _location_facts(conversation))
    except TemplateProblem:
        logger.warning("after-hours text of location %s is not a valid template", location.pk)
        return
    _reply(conversation, message, "after-hours", text, kind=MessageKind.AUTO_REPLY)


def conversation_candidates(conversation: Conversation) -> list[Patient]:
    """The patients a conversation's number belongs to, for staff to pick from on a family phone."""
    return patients_for_number(conversation.contact)
