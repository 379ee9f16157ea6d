"""The follow-through: "Were you able to book with …? Reply 1 yes, 2 not yet, 3 need help".

A referral still sent or acknowledged has a `next_checkin_at`; the beat task `referrals.send_checkins` texts
those due (claimed by a conditional update, so two sweeps send once) with a messaging `Prompt` (owner
`referrals`, subject `referral:<id>`). The reply comes back through the reply router: 1 moves the referral to
scheduled (reported by the patient), 2 plans another check-in `CARELINE_REFERRAL_CHECKIN_DAYS` later (at most
MAX_CHECKINS in all), 3 flags the conversation for staff with a note and marks the referral as needing help.
Anything else gets the question again and stays in the inbox's thread.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from careline.core.actor import Actor
from careline.core.languages import text_language
from careline.patients.models import Purpose
from careline.referrals.models import CHECKIN_STATES, ProviderKind, Referral, ReferralEvent, ReferralState
from careline.referrals.services.prompts import OPTIONS, OWNER, PROMPT_KIND, prompts_close, referral_subject
from careline.referrals.services.referrals import checkin_delay, crisis_line, referral_set_state
from careline.referrals.texts import (
    ANSWER_BOOKED,
    ANSWER_HELP,
    ANSWER_NOT_YET,
    ANSWER_NOT_YET_NO_PHONE,
    CHECKIN,
    UNREADABLE,
    referral_text,
)

logger = logging.getLogger(__name__)

MAX_CHECKINS = 3  # after the third "not yet" the worklist (stalled referrals) takes over
PROMPT_LIFETIME = timedelta(days=3)
SWEEP_BATCH = 500
# Replies understood besides the digits (English and Spanish); a reply's first word decides.
REPLY_WORDS = {
    "1": "1", "yes": "1", "si": "1", "sí": "1",
    "2": "2", "no": "2", "not": "2", "todavia": "2", "todavía": "2", "aun": "2", "aún": "2",
    "3": "3", "help": "3", "ayuda": "3",
}  # fmt: skip


def checkin_body(referral: Referral) -> str:
    """The check-in text in the patient's language (with 988 for a mental-health provider)."""
    from careline.messaging.template_values import patient_values

    patient = referral.patient
    language = text_language(patient.language)
    fields = patient_values(patient=patient, location=referral.location)
    body = referral_text(CHECKIN, language, fields, provider=referral.provider.name)
    line = crisis_line(referral.provider, language)
    return f"{body} {line}" if line else body


def checkin_send(referral: Referral, *, number: int, now: datetime) -> bool:
    """Text REFERRAL's check-in number NUMBER and open a prompt for the reply; False when not sent."""
    from careline.messaging.models import MessageKind, MessageState
    from careline.messaging.outbound.compose import MessageRefused, message_send
    from careline.messaging.services.prompts import prompt_record

    try:
        message = message_send(
            body=checkin_body(referral),
            patient=referral.patient,
            kind=MessageKind.AUTOMATED,
            purpose=Purpose.CARE,
            idempotency_key=f"referral-checkin:{referral.pk}:{number}",
            subject_key=referral_subject(referral.pk),
        )
    except MessageRefused:
        logger.info("referral %s check-in refused", referral.pk)
        return False
    if message.state in (MessageState.SUPPRESSED, MessageState.CANCELLED, MessageState.FAILED):
        return False
    prompts_close(referral.pk)
    prompt_record(
        owner=OWNER,
        kind=PROMPT_KIND,
        phone_number=message.to_address,
        conversation=message.conversation,
        message=message,
        subject_key=referral_subject(referral.pk),
        options=list(OPTIONS),
        expires_at=now + PROMPT_LIFETIME,
    )
    return True


def checkins_send_due(*, now: datetime | None = None, limit: int = SWEEP_BATCH) -> int:
    """Send the check-ins that are due (referrals still sent or acknowledged); how many were sent."""
    now = now or timezone.now()
    due = list(
        Referral.objects.filter(next_checkin_at__lte=now, state__in=CHECKIN_STATES)
        .order_by("next_checkin_at", "pk")
        .values_list("pk", "checkins_sent")[:limit]
    )
    sent = 0
    for pk, count in due:
        with transaction.atomic():
            claimed = Referral.objects.filter(
                pk=pk, checkins_sent=count, next_checkin_at__lte=now, state__in=CHECKIN_STATES
            ).update(next_checkin_at=None, checkins_sent=F("checkins_sent") + 1)
            if not claimed:
                continue
            referral = Referral.objects.select_related(
                "patient__primary_location", "provider", "location"
            ).get(pk=pk)
            if checkin_send(referral, number=count + 1, now=now):
                sent += 1
                ReferralEvent.objects.create(
                    referral=referral, from_state=referral.state, to_state=referral.state, at=now,
                    source=ReferralEvent.Source.SYSTEM, note=f"Check-in {count + 1} texted",
                )  # fmt: skip
    return sent


def reply_choice(body: str) -> str | None:
    """'1', '2' or '3' for a reply such as '1', 'yes', 'Sí', '3 please'; None when it says none of them."""
    words = (body or "").strip().lower().replace(".", " ").replace("!", " ").replace(",", " ").split()
    return REPLY_WORDS.get(words[0]) if words else None


def _answer(conversation: Any, message: Any, referral: Referral, body: str) -> None:
    from careline.messaging.models import MessageKind
    from careline.messaging.outbound.compose import MessageRefused, message_send

    try:
        message_send(
            body=body,
            patient=referral.patient,
            to_address=conversation.contact,
            channel=conversation.channel,
            kind=MessageKind.STAFF,  # a direct answer to the patient's own text
            purpose=Purpose.CARE,
            idempotency_key=f"referral-reply:{message.pk}",
        )
    except MessageRefused:
        logger.info("referral answer to message %s refused", message.pk)


def referral_prompt_reply_handle(conversation: Any, message: Any, prompt: Any) -> bool:
    """A reply to a check-in (the reply router's choice): 1 booked, 2 not yet, 3 needs help."""
    from careline.messaging.models import Prompt, PromptState
    from careline.messaging.services.conversations import conversation_flag, internal_note_add_automatic
    from careline.messaging.template_values import patient_values

    prefix, _, raw = (prompt.subject_key or "").partition(":")
    if prefix != "referral" or not raw.isdigit():
        return False
    referral = (
        Referral.objects.select_related("patient__primary_location", "provider", "location")
        .filter(pk=int(raw))
        .first()
    )
    if referral is None or conversation.patient_id not in (None, referral.patient_id):
        return False
    patient = referral.patient
    language = text_language(patient.language)
    fields = patient_values(patient=patient, location=referral.location)
    provider = referral.provider
    choice = reply_choice(message.body or "")
    if choice is None:
        _answer(conversation, message, referral, referral_text(UNREADABLE, language, fields))
        return True
    now = timezone.now()
    actor = Actor.patient(patient.pk)
    Prompt.objects.filter(pk=prompt.pk, state=PromptState.OPEN).update(state=PromptState.ANSWERED)
    if choice == "1":
        if referral.state in CHECKIN_STATES:
            referral_set_state(
                referral=referral, state=ReferralState.SCHEDULED, actor=actor, now=now,
                note="Booked, as the patient reported by text",
            )  # fmt: skip
        body = referral_text(ANSWER_BOOKED, language, fields, provider=provider.name)
    elif choice == "2":
        days = settings.CARELINE_REFERRAL_CHECKIN_DAYS
        if referral.state in CHECKIN_STATES and referral.checkins_sent < MAX_CHECKINS:
            Referral.objects.filter(pk=referral.pk, state__in=CHECKIN_STATES).update(
                next_checkin_at=now + checkin_delay()
            )
        ReferralEvent.objects.create(
            referral=referral, from_state=referral.state, to_state=referral.state, at=now,
            source=ReferralEvent.Source.PATIENT_TEXT, note="Not booked yet, as the patient reported by text",
        )  # fmt: skip
        text = ANSWER_NOT_YET if provider.phone else ANSWER_NOT_YET_NO_PHONE
        body = referral_text(text, language, fields, days=days, provider=provider.name, phone=provider.phone)
    else:
        Referral.objects.filter(pk=referral.pk).update(needs_help=True)
        ReferralEvent.objects.create(
            referral=referral, from_state=referral.state, to_state=referral.state, at=now,
            source=ReferralEvent.Source.PATIENT_TEXT, note="Asked for help booking",
        )  # fmt: skip
        conversation_flag(conversation=conversation, reason="referral: the patient needs help booking")
        internal_note_add_automatic(
            conversation=conversation,
            text=f"The patient asked for help booking their referral to {provider.name} (referral #{referral.pk}).",
        )
        body = referral_text(ANSWER_HELP, language, fields)
    line = crisis_line(provider, language) if provider.kind == ProviderKind.MENTAL_HEALTH else ""
    _answer(conversation, message, referral, f"{body} {line}".strip())
    return True
