"""Inbound texts: stored once (provider retries and concurrent deliveries included), matched to patients,
threaded, and answered for compliance keywords and after hours."""

from __future__ import annotations

import logging
from contextlib import nullcontext
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, OuterRef, Q, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from careline.core.actor import UNNAMED_JOB, Actor
from careline.core.broker_loss import tasks_lost_before
from careline.core.events import publish
from careline.core.languages import say
from careline.core.lean import insert_fields, insert_values
from careline.locations.models import Location
from careline.messaging.after_hours import closed_period_start
from careline.messaging.auto_answers import (
    AFTER_HOURS_TEMPLATE,
    AFTER_HOURS_URGENT_TEMPLATE,
    answer_language,
    keyword_answer,
)
from careline.messaging.channels.base import InboundMessage
from careline.messaging.conversation_facts import conversation_facts
from careline.messaging.events import UrgentTextAfterHours
from careline.messaging.keywords import (
    Keyword,
    is_conditional_opt_in,
    looks_like_opt_out,
    match_keyword,
    normalize_keyword,
)
from careline.messaging.models import (
    PREVIEW_LENGTH,
    Channel,
    Conversation,
    ConversationEvent,
    KeywordReplies,
    Message,
    MessageKind,
    MessageState,
    MessagingPolicy,
)
from careline.messaging.services.inbound_media import inbound_media_initial
from careline.messaging.template_values import location_values
from careline.messaging.templating import TemplateKind, template_problem, template_render
from careline.messaging.urgent import urgent_phrase_in, urgent_responder_for
from careline.patients.models import ConsentKind, ConsentMethod, Patient, PatientPhone

logger = logging.getLogger(__name__)

# A stored inbound row not processed by then lost its task.
UNPROCESSED_AFTER = timedelta(seconds=settings.CARELINE_LOST_TASK_SECONDS / 2)
PROVIDER_OPT_OUT_TYPES = {"STOP": Keyword.OPT_OUT, "START": Keyword.OPT_IN, "HELP": Keyword.HELP}


def patients_for_number(number: str) -> list[Patient]:
    """Every patient with NUMBER among their phones (a family phone gives several)."""
    return list(
        Patient.objects.filter(pk__in=PatientPhone.objects.filter(number=number).values("patient_id"))
        .select_related("primary_location")
        .order_by("pk")
    )


def inbound_receive(*, channel: Channel, inbound: InboundMessage) -> Message:
    """Store INBOUND exactly once and act on it now; a repeat of the same provider id returns the first row."""
    message, created = inbound_store(channel=channel, inbound=inbound, enqueue=False)
    if created:
        inbound_process(message.pk)
    return message


def inbound_store(*, channel: Channel, inbound: InboundMessage, enqueue: bool = True) -> tuple[Message, bool]:
    """Store INBOUND once (by provider id) and queue its processing on commit; (message, created).

    The webhook's whole request path: one INSERT that takes the conversation (and its patient) from the
    conversations table in the same statement (`_insert_into_known_conversation`). Only a new contact's
    first text, or a retry of a stored one, takes the slower path below. Matching, keywords, replies and
    after-hours run in `inbound_process`; the messages sweep re-queues rows whose task was lost.
    """
    message = _inbound_row(channel=channel, inbound=inbound)
    if _insert_into_known_conversation(message, contact=inbound.from_address):
        created = True
    else:
        existing = _stored_before(channel=channel, inbound=inbound)
        if existing is not None:
            return existing, False
        message, created = _insert_with_new_conversation(
            message, channel=channel, contact=inbound.from_address
        )
        if not created:
            return message, False
    if enqueue:
        message_id = message.pk
        transaction.on_commit(lambda: _enqueue_processing([message_id]))
    return message, True


def _inbound_row(*, channel: Channel, inbound: InboundMessage) -> Message:
    """The unsaved row storing INBOUND (its conversation and patient still to be set)."""
    return Message(
        channel=channel,
        direction=Message.Direction.INBOUND,
        kind=MessageKind.PATIENT,
        to_address=inbound.to_address or channel.address,
        from_address=inbound.from_address,
        body=inbound.body,
        media=inbound_media_initial(inbound.media),
        # Copied from the provider by the processing task, or later by the media sweep.
        media_due_at=timezone.now() if inbound.media else None,
        state=MessageState.RECEIVED,
        provider_message_id=inbound.provider_message_id,
        provider_opt_out_type=(inbound.opt_out_type or "").upper()[:10],
    )


# Every column but the id, the conversation and the patient: those two come from the conversation's row.
_FROM_CONVERSATION = ("conversation_id", "patient_id")


@cache
def _insert_sql(vendor: str) -> str:
    """INSERT ... SELECT from the conversation of (channel, contact), nothing when the provider id is stored.

    Written once from the model's fields (no per-request statement building, 0.3-0.5 ms of ORM Python a
    query); `test_inbound_store_sql` holds its rows equal to the ORM's. VENDOR keys the cache only: the
    statement is the same on PostgreSQL and SQLite (3.35+), which both take the unique index's predicate.
    """
    quote = connection.ops.quote_name

    def column(model: Any, name: str) -> str:
        return str(quote(model._meta.get_field(name).column))

    columns = [quote(field.column) for field in insert_fields(Message, _FROM_CONVERSATION)]
    targets = ", ".join([*columns, column(Message, "conversation"), column(Message, "patient")])
    values = ", ".join(["%s"] * len(columns))
    return (
        f"INSERT INTO {quote(Message._meta.db_table)} ({targets}) "  # noqa: S608 - names from the models
        f"SELECT {values}, c.{column(Conversation, 'id')}, c.{column(Conversation, 'patient')} "
        f"FROM {quote(Conversation._meta.db_table)} c "
        f"WHERE c.{column(Conversation, 'channel')} = %s AND c.{column(Conversation, 'contact')} = %s "
        f"ON CONFLICT ({column(Message, 'channel')}, {column(Message, 'provider_message_id')}) "
        f"WHERE {column(Message, 'provider_message_id')} IS NOT NULL DO NOTHING "
        f"RETURNING {column(Message, 'id')}, {column(Message, 'conversation')}, {column(Message, 'patient')}"
    )


def _insert_into_known_conversation(message: Message, *, contact: str) -> bool:
    """Store MESSAGE in the existing conversation of CONTACT on its channel, in one statement; False (and
    nothing written) when there is no such conversation yet or the provider id is already stored.

    The values are the ORM's own (each field's pre_save and database preparation, as Model.save does).
    """
    params = insert_values(message, insert_fields(Message, _FROM_CONVERSATION), connection)
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(connection.vendor), [*params, message.channel_id, contact])
        row = cursor.fetchone()
    if row is None:
        return False
    message.pk, message.conversation_id, message.patient_id = row
    message._state.adding = False
    return True


def _stored_before(*, channel: Channel, inbound: InboundMessage) -> Message | None:
    """The row a previous delivery of INBOUND (a provider retry, or a concurrent one) stored, if any."""
    return Message.objects.filter(channel=channel, provider_message_id=inbound.provider_message_id).first()


def _insert_with_new_conversation(
    message: Message, *, channel: Channel, contact: str
) -> tuple[Message, bool]:
    """A new contact's first text: its conversation made (or found: a concurrent first text), then MESSAGE."""
    conversation = _conversation_for(channel=channel, contact=contact)
    message.conversation = conversation
    message.patient_id = conversation.patient_id  # the id alone: no patient row read in the request
    # Outside a transaction the INSERT commits by itself; inside one, a savepoint keeps the outer
    # transaction usable after a duplicate's IntegrityError.
    outer = transaction.get_connection().in_atomic_block
    try:
        with transaction.atomic() if outer else nullcontext():
            message.save(force_insert=True)
    except IntegrityError:
        # A concurrent delivery of the same text stored it first; its row carries the processing.
        return Message.objects.get(channel=channel, provider_message_id=message.provider_message_id), False
    return message, True


def _conversation_for(*, channel: Channel, contact: str) -> Conversation:
    """The conversation of CONTACT on CHANNEL; a new one gets the patient when exactly one matches."""
    try:
        # The usual case: one SELECT on the unique (channel, contact) index, no patient matching.
        return Conversation.objects.get(channel=channel, contact=contact)
    except Conversation.DoesNotExist:
        pass
    candidates = patients_for_number(contact)
    single = candidates[0] if len(candidates) == 1 else None
    conversation, _ = Conversation.objects.get_or_create(
        channel=channel,
        contact=contact,
        defaults={"patient": single, "location": single.primary_location if single else None},
    )
    return conversation


def _enqueue_processing(message_ids: list[int]) -> None:
    from careline.messaging.services.inbound_queue import inbound_processing_queue

    inbound_processing_queue(message_ids)


def inbound_process(message_id: int) -> bool:
    """Match, thread, and act on (keywords, replies, after-hours) a stored inbound message, once.

    The claim (processed_at) and the side effects commit together: a duplicate task waits for the first
    and then finds the row claimed; a crash rolls the claim back, so the sweep's retry does it all again.
    """
    now = timezone.now()
    with transaction.atomic():
        claimed = Message.objects.filter(
            pk=message_id, direction=Message.Direction.INBOUND, processed_at__isnull=True
        ).update(processed_at=now)
        if not claimed:
            return False
        message = Message.objects.select_related(
            "channel", "conversation__location", "conversation__patient__primary_location"
        ).get(pk=message_id)
        conversation = message.conversation
        if message.patient_id is None:
            candidates = patients_for_number(message.from_address)
            if len(candidates) == 1:
                message.patient = candidates[0]
                Message.objects.filter(pk=message_id).update(patient=candidates[0])
        conversation.channel = message.channel  # the same row; saves a query when replying
        received = message.created_at
        preview = patient_preview(message.body, has_media=bool(message.media))
        # Greatest: a late run (the sweep's) must not move the thread back behind a newer message; the
        # preview likewise stays the newest patient text's. One UPDATE: this runs for every inbound text.
        newest = Q(last_patient_message_at__isnull=True) | Q(last_patient_message_at__lte=received)
        patient_wrote_at = Greatest(Coalesce(F("last_patient_message_at"), Value(received)), Value(received))
        # The row facts in the same UPDATE, "waiting on the patient" against the new last patient text
        # (a SET expression reads the row as it was).
        wrote_at = Greatest(Coalesce(OuterRef("last_patient_message_at"), Value(received)), Value(received))
        Conversation.objects.filter(pk=conversation.pk).update(
            last_message_at=Greatest(Coalesce(F("last_message_at"), Value(received)), Value(received)),
            last_inbound_at=Greatest(Coalesce(F("last_inbound_at"), Value(received)), Value(received)),
            last_patient_message_at=patient_wrote_at,
            last_patient_preview=Case(When(newest, then=Value(preview)), default=F("last_patient_preview")),
            updated_at=now,
            **conversation_facts(patient_wrote_at=wrote_at),
        )
        # The same values in memory (a refresh would cost a query on every inbound text).
        conversation.last_message_at = max(conversation.last_message_at or received, received)
        conversation.last_inbound_at = max(conversation.last_inbound_at or received, received)
        if conversation.last_patient_message_at is None or conversation.last_patient_message_at <= received:
            conversation.last_patient_message_at = received
            conversation.last_patient_preview = preview
        inbound = InboundMessage(
            provider_message_id=message.provider_message_id or "",
            from_address=message.from_address,
            to_address=message.to_address,
            body=message.body,
            media=message.media,
            opt_out_type=message.provider_opt_out_type,
        )
        conversation.inbound_in_progress = True  # type: ignore[attr-defined]  # see conversation_flag
        handled = _act_on(
            channel=message.channel, conversation=conversation, message=message, inbound=inbound
        )
        if not handled or getattr(conversation, "handed_to_people", False):
            _needs_attention(conversation)
    return True


def patient_preview(body: str, *, has_media: bool) -> str:
    """The start of a patient's text as the inbox list shows it (one line, at most PREVIEW_LENGTH)."""
    text = " ".join((body or "").split())
    if not text:
        return "Sent an attachment" if has_media else ""
    return text if len(text) <= PREVIEW_LENGTH else text[: PREVIEW_LENGTH - 1] + "\u2026"


def _needs_attention(conversation: Conversation) -> None:
    """A person must read the patient's text: one more unread, and the conversation opens again."""
    Conversation.objects.filter(pk=conversation.pk).update(
        unread_count=F("unread_count") + 1, status=Conversation.Status.OPEN
    )
    conversation.unread_count += 1
    conversation.status = Conversation.Status.OPEN


def inbound_unprocessed(*, older_than: datetime) -> list[int]:
    """Ids of inbound messages stored before OLDER_THAN and still not processed (their task was lost)."""
    return list(
        Message.objects.filter(
            direction=Message.Direction.INBOUND, processed_at__isnull=True, created_at__lt=older_than
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:1000]
    )


def inbound_requeue(*, now: datetime) -> int:
    """Queue processing again for inbound rows not processed a minute after they were stored, or stored
    before the broker lost its data (core/broker_loss.py); how many."""
    ids = inbound_unprocessed(
        older_than=tasks_lost_before(
            now, after=UNPROCESSED_AFTER.total_seconds(), watcher="inbound", just_lost=True
        )
    )
    if ids:
        from careline.messaging.services.inbound_queue import inbound_processing_send

        inbound_processing_send(ids)
    return len(ids)


def _act_on(
    *, channel: Channel, conversation: Conversation, message: Message, inbound: InboundMessage
) -> bool:
    """Act on the text; True when Careline handled it by itself (a keyword, or a feature answered it).

    A text that reads like "stop texting me", or that nothing answered, is for people (False).
    """
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
        return True
    if keyword is Keyword.OPT_IN:
        _opt_in(conversation=conversation, message=message, reply=not provider_answers)
        return True
    if keyword is Keyword.HELP:
        if not provider_answers:
            text = keyword_answer(
                "help",
                location=_answer_location(conversation),
                language=_answer_language(conversation, message, inbound.body),
            )
            _reply(conversation, message, "help", text)
        return True
    suspected_opt_out = looks_like_opt_out(inbound.body)
    if suspected_opt_out:
        Conversation.objects.filter(pk=conversation.pk).update(opt_out_suspected=True)
        ConversationEvent.objects.create(
            conversation=conversation,
            kind=ConversationEvent.Kind.FLAGGED,
            detail="may be asking to stop texts",
        )
    from careline.messaging.replies import reply_route

    if reply_route(conversation, message):
        return not suspected_opt_out
    _after_hours_reply(conversation=conversation, message=message)
    return False


def _answer_location(conversation: Conversation) -> Location | None:
    """The location an automatic answer speaks for: the conversation's, the patient's, else the first open."""
    location = conversation.location or (
        conversation.patient.primary_location if conversation.patient else None
    )
    if location is None:
        location = Location.objects.filter(is_active=True).order_by("pk").first()
    return location


def _answer_language(conversation: Conversation, message: Message, text: str) -> str:
    """The patient's language; for a number that matches no single patient, the candidates' or TEXT's."""
    patient = conversation.patient or message.patient
    candidates = [] if patient is not None else patients_for_number(conversation.contact)
    return answer_language(patient=patient, candidates=candidates, text=text)


def _reply(
    conversation: Conversation,
    message: Message,
    purpose: str,
    body: str,
    kind: str = MessageKind.KEYWORD_REPLY,
) -> Message:
    from careline.messaging.outbound.compose import message_send

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
        actor=Actor.system(UNNAMED_JOB),  # no one named in the entry, as before
        note=f"replied {word[:20]}",
    )
    ConversationEvent.objects.create(
        conversation=conversation, kind=ConversationEvent.Kind.OPTED_OUT, detail=f"replied {word[:20]}"
    )
    meant_visit = word in {"CANCEL", "CANCELAR"}
    if meant_visit:
        Conversation.objects.filter(pk=conversation.pk).update(visit_cancel_suspected=True)
    if reply:
        text = keyword_answer(
            "opt_out",
            location=_answer_location(conversation),
            language=_answer_language(conversation, message, inbound.body),
            cancel_hint=meant_visit,
        )
        _reply(conversation, message, "opt-out", text)


def _opt_in(*, conversation: Conversation, message: Message, reply: bool) -> None:
    from careline.patients.services.registry import consent_record

    consent_record(
        phone_number=conversation.contact,
        kind=ConsentKind.GIVEN,
        method=ConsentMethod.KEYWORD if reply else ConsentMethod.PROVIDER,
        patient=conversation.patient,
        actor=Actor.system(UNNAMED_JOB),  # no one named in the entry, as before
        note="replied to opt back in",
    )
    ConversationEvent.objects.create(conversation=conversation, kind=ConversationEvent.Kind.OPTED_IN)
    if reply:
        text = keyword_answer(
            "opt_in",
            location=_answer_location(conversation),
            language=_answer_language(conversation, message, message.body),
        )
        _reply(conversation, message, "opt-in", text)


def _after_hours_reply(*, conversation: Conversation, message: Message) -> None:
    """Answer once per closed period with the location's after-hours text and emergency guidance.

    A text with urgent words is announced (`UrgentTextAfterHours`: the on-call line pages its clinician) and,
    when a responder told someone now, answered every time with "the on-call clinician has been told".
    """
    location = conversation.location
    if location is None:
        return
    period = closed_period_start(location, timezone.now())
    if period is None:
        return
    phrase = urgent_phrase_in(message.body or "")
    if phrase:
        publish(
            UrgentTextAfterHours(
                conversation_id=conversation.pk, message_id=message.pk, location_id=location.pk, phrase=phrase
            )
        )
    policy = MessagingPolicy.objects.filter(location=location).first()
    if policy is not None and not policy.after_hours_reply_enabled:
        return
    told = bool(phrase) and urgent_responder_for(location.pk) is not None
    claimed = (
        Conversation.objects.filter(pk=conversation.pk)
        .exclude(after_hours_replied_for=period)
        .update(after_hours_replied_for=period)
    )
    if not claimed and not told:
        return
    language = _answer_language(conversation, message, "")
    if told:
        template = say(AFTER_HOURS_URGENT_TEMPLATE, language)
    elif policy is None:
        template = say(AFTER_HOURS_TEMPLATE, language)
    else:
        template = policy.after_hours_text_for(language)
    problem = template_problem(template, kind=TemplateKind.AFTER_HOURS)
    if problem:
        # Saved before templates were checked: better no answer than a half-filled one.
        logger.warning("after-hours text of location %s is not a valid template: %s", location.pk, problem)
        return
    text = template_render(template, location_values(location, language), kind=TemplateKind.AFTER_HOURS)
    purpose = "after-hours-urgent" if told else "after-hours"
    _reply(conversation, message, purpose, text, kind=MessageKind.AUTO_REPLY)


def conversation_candidates(conversation: Conversation) -> list[Patient]:
    """The patients a conversation's number belongs to, for staff to pick from on a family phone."""
    return patients_for_number(conversation.contact)
