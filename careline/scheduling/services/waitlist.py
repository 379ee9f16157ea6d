"""Waitlist offers of freed slots: texted to waitlisted patients in the order they joined; the first to reply
the offer's word (CARELINE_REPLY_WAITLIST, default B) gets the slot, anyone after is told it is taken.

Races: two patients accepting the same slot at the same moment each run `appointment_book`, which locks the
clinician's row and then looks for an overlapping visit, so the second waits, sees the first's booking and is
refused; that patient is told the slot is taken and stays on the list. Offers expire
(CARELINE_WAITLIST_OFFER_MINUTES, counted from when the text goes out): checked when a reply arrives, and by
`waitlist_offers_expire` (which then offers the slot to the next patients in line).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from careline.accounts.models import User
from careline.core.actor import Actor
from careline.core.languages import say, text_language
from careline.messaging.models import Conversation, Message, MessageKind, Prompt, PromptState
from careline.messaging.services.prompts import prompt_record
from careline.patients.models import Purpose
from careline.scheduling import reply_texts as texts
from careline.scheduling.events import AppointmentCancelled, AppointmentMoved
from careline.scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    ChangeSource,
    WaitlistEntry,
    WaitlistOffer,
)
from careline.scheduling.prompts import OWNER, PromptKind, scheduling_prompts
from careline.scheduling.services.reply_answers import Reply, answer, when_text

logger = logging.getLogger(__name__)

LATE_REPLY_LOOKBACK = timedelta(days=7)  # a late B to an offer up to a week old is told what happened


def _offer_minutes() -> timedelta:
    return timedelta(minutes=settings.CARELINE_WAITLIST_OFFER_MINUTES)


def waitlist_entries_for_slot(
    *, clinician: Any, location: Any, appointment_type: Any, starts_at: datetime
) -> list[WaitlistEntry]:
    """WAITING entries that would take this slot, in the order they joined (not yet offered it)."""
    day = starts_at.astimezone(location.zone).date()
    entries = (
        WaitlistEntry.objects.filter(state=WaitlistEntry.State.WAITING, appointment_type=appointment_type)
        .filter(Q(location__isnull=True) | Q(location=location))
        .filter(Q(clinician__isnull=True) | Q(clinician=clinician))
        .filter(Q(earliest_date__isnull=True) | Q(earliest_date__lte=day))
        .filter(Q(latest_date__isnull=True) | Q(latest_date__gte=day))
        .exclude(offers__clinician=clinician, offers__starts_at=starts_at)
        .select_related("patient__primary_location", "current_appointment")
        .prefetch_related("patient__phones")
        .order_by("created_at", "id")
    )
    wanted = []
    for entry in entries:
        current = entry.current_appointment
        if current is not None and current.status in ACTIVE_STATUSES and current.starts_at <= starts_at:
            continue  # this slot is no earlier than the visit they have
        wanted.append(entry)
    return wanted


def _offer_text(*, entry: WaitlistEntry, location: Any, starts_at: datetime, word: str, minutes: int) -> str:
    patient = entry.patient
    language = text_language(patient.language)
    when = when_text(starts_at, location, patient, language)
    return say(
        texts.WAITLIST_OFFER,
        language,
        first_name=patient.first_name,
        place=location.name,
        when=when,
        word=word,
        minutes=minutes,
    )


def waitlist_offer_freed_slot(
    *, clinician: Any, location: Any, appointment_type: Any, starts_at: datetime
) -> int:
    """Offer a slot that just freed up to the next waitlisted patients by text; returns offers made."""
    from careline.messaging.outbound.compose import message_send, patient_sms_number
    from careline.messaging.outbound.policy import suppression_reason_for
    from careline.messaging.services.channels import channel_default

    now = timezone.now()
    if starts_at <= now:
        return 0
    channel = channel_default("sms")
    if channel is None:
        return 0
    word = settings.CARELINE_REPLY_WAITLIST
    lifetime = _offer_minutes()
    made = 0
    for entry in waitlist_entries_for_slot(
        clinician=clinician, location=location, appointment_type=appointment_type, starts_at=starts_at
    ):
        if made >= settings.CARELINE_WAITLIST_OFFER_BATCH:
            break
        number = patient_sms_number(entry.patient)
        if not number or suppression_reason_for(
            channel=channel, address=number, patient=entry.patient, kind=MessageKind.AUTOMATED
        ):
            continue  # cannot be texted (no mobile, no consent, opted out, landline ...): not offered
        with transaction.atomic():
            offer = WaitlistOffer.objects.create(
                entry=entry,
                clinician=clinician,
                location=location,
                appointment_type=appointment_type,
                starts_at=starts_at,
                word=word,
                expires_at=min(now + lifetime, starts_at),
            )
            message = message_send(
                body=_offer_text(
                    entry=entry,
                    location=location,
                    starts_at=starts_at,
                    word=word,
                    minutes=settings.CARELINE_WAITLIST_OFFER_MINUTES,
                ),
                patient=entry.patient,
                to_address=number,
                channel=channel,
                kind=MessageKind.AUTOMATED,
                purpose=Purpose.APPOINTMENTS,
                idempotency_key=f"waitlist-offer:{offer.pk}",
            )
            # Held for quiet hours: the offer runs from when it actually goes out.
            goes_out = message.due_at if message.held_for_quiet_hours and message.due_at else now
            offer.message = message
            offer.expires_at = min(goes_out + lifetime, starts_at)
            offer.save(update_fields=["message", "expires_at"])
            prompt_record(
                owner=OWNER,
                phone_number=number,
                conversation=message.conversation,
                kind=PromptKind.WAITLIST,
                options=[{"offer_id": offer.pk}],
                message=message,
                expires_at=offer.expires_at,
            )
        made += 1
    return made


# --- replies -----------------------------------------------------------------------------------------


def _offer_of(prompt: Prompt) -> int | None:
    for option in prompt.options or []:
        if isinstance(option, dict) and isinstance(option.get("offer_id"), int):
            return int(option["offer_id"])
    return None


def _answer(conversation: Conversation, message: Message, body: str, patient: Any) -> None:
    answer(Reply(conversation=conversation, message=message, now=timezone.now()), body, patient=patient)


def waitlist_reply_handle(*, conversation: Conversation, message: Message, now: datetime) -> bool:
    """The patient replied the waitlist word: book the newest offer to this number if it is still open."""
    prompts = list(
        scheduling_prompts()
        .filter(
            phone_number=conversation.contact,
            kind=PromptKind.WAITLIST,
            created_at__gte=now - LATE_REPLY_LOOKBACK,
        )
        .order_by("-created_at", "-id")
    )
    offer_ids = [oid for oid in (_offer_of(p) for p in prompts) if oid is not None]
    if not offer_ids:
        return False
    offers = {
        o.pk: o
        for o in WaitlistOffer.objects.filter(pk__in=offer_ids).select_related(
            "entry__patient__primary_location",
            "entry__current_appointment",
            "location",
            "clinician",
            "appointment_type",
        )
    }
    ordered = [offers[oid] for oid in offer_ids if oid in offers]
    live = [o for o in ordered if o.state == WaitlistOffer.State.OPEN and o.expires_at > now]
    offer = live[0] if live else ordered[0]
    patient = offer.entry.patient
    if offer not in live:
        if offer.state == WaitlistOffer.State.OPEN:
            _expire(offer)
        if offer.state == WaitlistOffer.State.ACCEPTED:
            return True  # a repeated B after booking: already answered
        _answer(conversation, message, say(texts.WAITLIST_OFFER_GONE, patient.language), patient)
        return True
    return _accept(conversation=conversation, message=message, offer=offer, now=now)


def _expire(offer: WaitlistOffer) -> None:
    WaitlistOffer.objects.filter(pk=offer.pk, state=WaitlistOffer.State.OPEN).update(
        state=WaitlistOffer.State.EXPIRED
    )
    _close_prompts_for_offers([offer.pk], PromptState.EXPIRED)
    offer.state = WaitlistOffer.State.EXPIRED


def _close_prompts_for_offers(offer_ids: list[int], state: str) -> None:
    if offer_ids:
        scheduling_prompts().filter(
            kind=PromptKind.WAITLIST, state=PromptState.OPEN, options__0__offer_id__in=offer_ids
        ).update(state=state)


def _accept(*, conversation: Conversation, message: Message, offer: WaitlistOffer, now: datetime) -> bool:
    from careline.scheduling.services.appointments import appointment_book, appointment_cancel

    entry = offer.entry
    patient = entry.patient
    language = text_language(patient.language)
    try:
        with transaction.atomic():
            # The clinician's lock first (as appointment_book takes it): rivals queue here, before either
            # touches the other's offer row, so two acceptances cannot deadlock.
            list(User.objects.select_for_update().filter(pk=offer.clinician.pk).values_list("pk", flat=True))
            claimed = WaitlistOffer.objects.filter(pk=offer.pk, state=WaitlistOffer.State.OPEN).update(
                state=WaitlistOffer.State.ACCEPTED
            )
            if not claimed:
                raise ValidationError("offer no longer open")
            appointment = appointment_book(
                patient=patient,
                clinician=offer.clinician,
                location=offer.location,
                appointment_type=offer.appointment_type,
                starts_at=offer.starts_at,
                actor=Actor.patient(patient.pk),
                source=ChangeSource.TEXT,
            )
            WaitlistOffer.objects.filter(pk=offer.pk).update(booked_appointment=appointment)
            WaitlistEntry.objects.filter(pk=entry.pk).update(state=WaitlistEntry.State.BOOKED)
            rivals = list(
                WaitlistOffer.objects.filter(
                    clinician=offer.clinician, starts_at=offer.starts_at, state=WaitlistOffer.State.OPEN
                ).values_list("pk", flat=True)
            )
            WaitlistOffer.objects.filter(pk__in=rivals).update(state=WaitlistOffer.State.TAKEN)
            _close_prompts_for_offers([offer.pk], PromptState.ANSWERED)
            _close_prompts_for_offers(rivals, PromptState.EXPIRED)
    except ValidationError:
        # Someone else booked it first (or it is no longer bookable): they stay on the list.
        WaitlistOffer.objects.filter(pk=offer.pk, state=WaitlistOffer.State.OPEN).update(
            state=WaitlistOffer.State.TAKEN
        )
        _answer(conversation, message, say(texts.WAITLIST_TAKEN, language), patient)
        return True
    when = when_text(appointment.starts_at, appointment.location, patient, language)
    released = ""
    current = entry.current_appointment
    if (
        current is not None
        and current.status in ACTIVE_STATUSES
        and current.starts_at > appointment.starts_at
    ):
        # Their later visit frees up in turn (and is offered to the next patient on the list).
        try:
            with transaction.atomic():
                appointment_cancel(
                    appointment=current,
                    actor=Actor.patient(current.patient_id),
                    source=ChangeSource.TEXT,
                    by_patient=True,
                    reason="took an earlier waitlist slot",
                )
            old = when_text(current.starts_at, current.location, patient, language)
            released = " " + say(texts.WAITLIST_RELEASED, language, when=old)
        except ValidationError:
            logger.info("waitlist: later visit %s could not be released", current.pk)
    body = say(
        texts.WAITLIST_BOOKED,
        language,
        when=when,
        place=appointment.location.name,
        address=appointment.location.address,
    )
    body += released
    _answer(conversation, message, body, patient)
    return True


def waitlist_offers_expire(*, now: datetime | None = None) -> int:
    """Expire offers past their time and offer each still-free slot to the next patients; returns expired."""
    now = now or timezone.now()
    due = list(
        WaitlistOffer.objects.filter(state=WaitlistOffer.State.OPEN, expires_at__lte=now).select_related(
            "clinician", "location", "appointment_type"
        )
    )
    if not due:
        return 0
    ids = [o.pk for o in due]
    WaitlistOffer.objects.filter(pk__in=ids, state=WaitlistOffer.State.OPEN).update(
        state=WaitlistOffer.State.EXPIRED
    )
    _close_prompts_for_offers(ids, PromptState.EXPIRED)
    slots = {(o.clinician.pk, o.starts_at): o for o in due}
    for offer in slots.values():
        accepted = WaitlistOffer.objects.filter(
            clinician=offer.clinician, starts_at=offer.starts_at, state=WaitlistOffer.State.ACCEPTED
        ).exists()
        still_open = WaitlistOffer.objects.filter(
            clinician=offer.clinician, starts_at=offer.starts_at, state=WaitlistOffer.State.OPEN
        ).exists()
        if not accepted and not still_open:
            waitlist_offer_freed_slot(
                clinician=offer.clinician,
                location=offer.location,
                appointment_type=offer.appointment_type,
                starts_at=offer.starts_at,
            )
    return len(ids)


def waitlist_on_slot_freed(event: AppointmentMoved | AppointmentCancelled) -> None:
    """After a move or cancellation commits, offer the freed time (if still ahead) to the waitlist."""
    freed_id = event.previous_appointment_id if isinstance(event, AppointmentMoved) else event.appointment_id
    freed = Appointment.objects.select_related("clinician", "location", "appointment_type").get(pk=freed_id)
    if freed.starts_at > timezone.now():
        waitlist_offer_freed_slot(
            clinician=freed.clinician,
            location=freed.location,
            appointment_type=freed.appointment_type,
            starts_at=freed.starts_at,
        )
