"""Patients' text replies to reminders and to the questions that follow them: confirm (C), cancel (X, asked
twice), reschedule (R, then 1/2/3), a day or time in their own words, and waitlist offers (B, in waitlist.py).

`scheduling_reply_handle` is registered with messaging's reply router (SchedulingConfig.ready) for replies to
scheduling's prompts and as a free-text handler. It runs inside the inbound message's transaction for texts
that are not compliance keywords (and not answers to a newer question of another feature), so a patient who texts
CANCEL is opted out by messaging and never reaches this code: their visit stays booked (the conversation is
flagged for the front desk instead).

What a reply answers: the newest OPEN, unexpired scheduling prompt for the number (a reminder, "cancel?", or slot
choices); without one, the visit of the number's earlier questions, answered or not, so C, R and X act on
the patient's upcoming visit until it starts whatever was replied before (X after C asks "cancel?" again).
A question about a visit that has since moved is about the visit it moved to. When the number has
questions about two upcoming visits (two visits, a family phone) the reply cannot be tied to one, and it
goes to the front desk with the candidates.

Answers are sent with kind STAFF: they are direct answers in a conversation the patient is using right now,
which the pipeline never holds for quiet hours (a patient texting at 21:00 gets the answer at 21:00, not
the next morning) and which need no prior automated-text consent, only no opt-out. Each answer's
idempotency key is the inbound message's id, so a redelivered webhook never answers twice.
"""

from __future__ import annotations

import logging
import unicodedata
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.functional import Promise

from careline.accounts.models import User
from careline.core.actor import Actor
from careline.core.languages import say, text_language
from careline.locations.models import Location
from careline.messaging.models import Conversation, Message, Prompt, PromptState
from careline.messaging.services.conversations import (
    conversation_flag,
    conversation_tag_automatic,
    internal_note_add_automatic,
)
from careline.messaging.services.prompts import prompt_record
from careline.scheduling import reply_texts as texts
from careline.scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    ChangeSource,
)
from careline.scheduling.prompts import (
    OWNER,
    VISIT_PROMPTS,
    PromptKind,
    appointment_subject,
    prompt_appointment_id,
    prompts_with_visits,
    scheduling_prompts,
)
from careline.scheduling.queries.patient_visits import SLOT_LEAD  # never a slot within the hour
from careline.scheduling.services.reply_answers import Reply, answer, when_text
from careline.scheduling.subjects import SUBJECT_PREFIX
from careline.scheduling.texts import reply_words

logger = logging.getLogger(__name__)

PROMPT_LIFETIME = timedelta(hours=24)  # how long "cancel?" and slot choices wait for an answer
RESCHEDULE_DAYS = 14  # slot choices come from the next two weeks
SLOT_CHOICES = 3
EXPIRED_LOOKBACK = timedelta(days=7)  # a late "2" to choices up to a week old gets fresh choices
FRONT_DESK_TAG = "Front desk"
ANSWERED_LOOKBACK = timedelta(days=90)  # older questions no longer tie a reply to a visit
PROMPTS_CONSIDERED = 50  # a family phone's recent questions; enough to see every upcoming visit
MAX_MOVES_FOLLOWED = 20


def reply_word(text: str) -> str:
    """TEXT as a reply word: letters and digits only, upper case, accents dropped (' c. ' -> 'C')."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(ch for ch in decomposed if ch.isalnum() and not unicodedata.combining(ch)).upper()


def scheduling_reply_handle(conversation: Conversation, message: Message) -> bool:
    """Answer MESSAGE if it replies to a scheduling question; False lets the inbox handle it."""
    if not conversation.contact.startswith("+") or not (message.body or "").strip():
        return False
    reply = Reply(conversation=conversation, message=message, now=timezone.now())
    word = reply_word(message.body)
    from django.conf import settings

    from careline.scheduling.services.waitlist import waitlist_reply_handle

    if word == settings.CARELINE_REPLY_WAITLIST and waitlist_reply_handle(
        conversation=conversation, message=message, now=reply.now
    ):
        return True
    if word.isdecimal() and len(word) <= 2:
        return _choice_reply(reply, int(word))
    visits, second_step = _reply_target(reply)
    if not visits:
        return False
    if len(visits) > 1:
        _ambiguous(reply, visits)
        return False
    appointment = visits[0]
    confirm, reschedule, cancel = reply_words()
    if word == confirm:
        return _confirm(reply, appointment)
    if word == cancel:
        return _cancel(reply, appointment, second_step=second_step)
    if word == reschedule:
        return _offer_slots(reply, appointment)
    return _free_text(reply, appointment)


def scheduling_prompt_reply_handle(conversation: Conversation, message: Message, prompt: Prompt) -> bool:
    """A reply to one of scheduling's prompts (the router's choice); scheduling's own rules pick the question."""
    return scheduling_reply_handle(conversation, message)


def current_visit(appointment: Appointment) -> Appointment:
    """APPOINTMENT, or the visit it became after every move since (moves book a new row)."""
    for _ in range(MAX_MOVES_FOLLOWED):
        if appointment.status != AppointmentStatus.RESCHEDULED:
            break
        moved_to = _visits().filter(rescheduled_from=appointment).first()
        if moved_to is None:
            break
        appointment = moved_to
    return appointment


def _visits() -> Any:
    return Appointment.objects.select_related(
        "patient__primary_location", "location", "clinician", "appointment_type"
    )


def _visit_prompts(reply: Reply, *, open_only: bool) -> list[tuple[Prompt, Appointment]]:
    """The number's questions about visits, newest first, each with the upcoming visit it is about now.

    OPEN_ONLY: unanswered, unexpired ones. Otherwise every question of the last ANSWERED_LOOKBACK, answered
    or not: a patient who confirmed may still cancel or reschedule until the visit starts.
    """
    prompts = scheduling_prompts().filter(
        phone_number=reply.conversation.contact,
        kind__in=VISIT_PROMPTS,
        subject_key__startswith=f"{SUBJECT_PREFIX}:",
    )
    if open_only:
        prompts = prompts.filter(state=PromptState.OPEN, expires_at__gt=reply.now)
    else:
        prompts = prompts.filter(created_at__gte=reply.now - ANSWERED_LOOKBACK)
    found: list[tuple[Prompt, Appointment]] = []
    for prompt, appointment in prompts_with_visits(
        prompts.order_by("-created_at", "-id")[:PROMPTS_CONSIDERED]
    ):
        visit = current_visit(appointment)
        if _is_upcoming(visit, reply.now):
            found.append((prompt, visit))
    return found


def _reply_target(reply: Reply) -> tuple[list[Appointment], Prompt | None]:
    """The upcoming visits a reply may be about (newest question first) and the open 'cancel?' it answers.

    Open questions decide; without any, the visits of earlier (answered or expired) questions do, so C, R
    and X keep working until the visit starts whatever was answered before. A 'cancel?' counts only while
    it is open and still about the visit as it is now (not one asked before the visit moved).
    """
    pairs = _visit_prompts(reply, open_only=True) or _visit_prompts(reply, open_only=False)
    visits: dict[int, Appointment] = {}
    for _, visit in pairs:
        visits.setdefault(visit.pk, visit)
    second_step = None
    if pairs:
        prompt, visit = pairs[0]
        if (
            prompt.state == PromptState.OPEN
            and prompt.expires_at > reply.now
            and prompt.kind == PromptKind.CANCEL_CONFIRM
            and prompt_appointment_id(prompt) == visit.pk
        ):
            second_step = prompt
    return list(visits.values()), second_step


def _is_upcoming(appointment: Appointment | None, now: datetime) -> bool:
    return appointment is not None and appointment.status in ACTIVE_STATUSES and appointment.starts_at > now


# --- answers -----------------------------------------------------------------------------------------


def _language(appointment: Appointment) -> str:
    return text_language(appointment.patient.language)


def _close_prompts(appointment: Appointment, number: str, state: str) -> None:
    scheduling_prompts().filter(
        subject_key=appointment_subject(appointment.pk),
        phone_number=number,
        state=PromptState.OPEN,
        kind__in=VISIT_PROMPTS,
    ).update(state=state)


def prompt_create(
    *, reply: Reply, appointment: Appointment, kind: str, options: list[dict[str, Any]], message: Message
) -> Prompt:
    """A new question to the number about APPOINTMENT; earlier open ones about it are superseded."""
    _close_prompts(appointment, reply.conversation.contact, PromptState.SUPERSEDED)
    expires_at = min(reply.now + PROMPT_LIFETIME, appointment.starts_at)
    return prompt_record(
        owner=OWNER,
        phone_number=reply.conversation.contact,
        conversation=reply.conversation,
        subject_key=appointment_subject(appointment.pk),
        kind=kind,
        options=options,
        message=message,
        expires_at=expires_at,
    )


def _confirm(reply: Reply, appointment: Appointment) -> bool:
    from careline.scheduling.services.appointments import appointment_set_status

    if appointment.status != AppointmentStatus.CONFIRMED:
        try:
            with transaction.atomic():
                appointment_set_status(
                    appointment=appointment,
                    status=AppointmentStatus.CONFIRMED,
                    actor=Actor.patient(appointment.patient_id),
                    source=ChangeSource.TEXT,
                    detail="replied to confirm",
                )
        except ValidationError:
            logger.info("appointment %s could not be confirmed by text", appointment.pk)
            return False
    _close_prompts(appointment, reply.conversation.contact, PromptState.ANSWERED)
    language = _language(appointment)
    when = when_text(appointment.starts_at, appointment.location, appointment.patient, language)
    body = say(
        texts.CONFIRMED,
        language,
        first_name=appointment.patient.first_name,
        when=when,
        place=appointment.location.name,
    )
    answer(reply, body, patient=appointment.patient)
    return True


def _cancel(reply: Reply, appointment: Appointment, *, second_step: Prompt | None) -> bool:
    from careline.core.phones import format_phone
    from careline.scheduling.services.appointments import appointment_cancel

    language = _language(appointment)
    when = when_text(appointment.starts_at, appointment.location, appointment.patient, language)
    place = appointment.location.name
    cancel_word = reply_words()[2]
    if second_step is None:
        # Asked once, so a stray X does not cancel a visit.
        body = say(texts.CANCEL_ASK, language, cancel_word=cancel_word, when=when, place=place)
        sent = answer(reply, body, patient=appointment.patient)
        prompt_create(
            reply=reply,
            appointment=appointment,
            kind=PromptKind.CANCEL_CONFIRM,
            options=[],
            message=sent,
        )
        return True
    # A conditional update: of two X replies racing, one cancels.
    taken = (
        scheduling_prompts()
        .filter(pk=second_step.pk, state=PromptState.OPEN)
        .update(state=PromptState.ANSWERED)
    )
    if not taken:
        return True
    try:
        with transaction.atomic():
            # appointment_cancel offers the freed slot to the waitlist after commit (once, there).
            appointment_cancel(
                appointment=appointment,
                actor=Actor.patient(appointment.patient_id),
                source=ChangeSource.TEXT,
                by_patient=True,
                reason="replied to cancel",
            )
    except ValidationError:
        logger.info("appointment %s could not be cancelled by text", appointment.pk)
        return False
    _close_prompts(appointment, reply.conversation.contact, PromptState.ANSWERED)
    phone = format_phone(appointment.location.phone)
    body = say(texts.CANCELLED, language, when=when, place=place, phone=phone)
    answer(reply, body, patient=appointment.patient)
    return True


# --- reschedule: choices, the chosen number, free text ----------------------------------------------


def _option(n: int, slot: Any) -> dict[str, Any]:
    return {
        "n": n,
        "starts_at": slot.starts_at.isoformat(),
        "clinician_id": slot.clinician.pk,
        "location_id": slot.location.pk,
        "type_id": slot.appointment_type.pk,
    }


def slot_choices(
    appointment: Appointment,
    *,
    now: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
    nearest: datetime | None = None,
) -> list[Any]:
    """Up to three free slots for APPOINTMENT's type and location, its clinician's first, on different days."""
    from careline.scheduling.queries.appointments import free_slots

    start = max(start or now, now + SLOT_LEAD)
    end = end or now + timedelta(days=RESCHEDULE_DAYS)
    if end <= start:
        return []
    kind = appointment.appointment_type
    own = free_slots(
        appointment_type=kind,
        start=start,
        end=end,
        now=now,
        clinician=appointment.clinician,
        location=appointment.location,
        limit=40,
    )
    others = [
        s
        for s in free_slots(
            appointment_type=kind, start=start, end=end, now=now, location=appointment.location, limit=40
        )
        if s.clinician.pk != appointment.clinician_id
    ]
    if nearest is not None:
        # A named time: the closest ones, the patient's own clinician winning a tie.
        pool = own + others
        pool.sort(
            key=lambda s: (
                abs((s.starts_at - nearest).total_seconds()),
                s.clinician.pk != appointment.clinician_id,
            )
        )
        return pool[:SLOT_CHOICES]
    zone = appointment.location.zone
    chosen: list[Any] = []
    seen_days: set[Any] = set()
    for slot in own:  # one a day first, so the choices are spread out
        day = slot.starts_at.astimezone(zone).date()
        if day not in seen_days and len(chosen) < SLOT_CHOICES:
            chosen.append(slot)
            seen_days.add(day)
    for slot in own + others:
        if len(chosen) >= SLOT_CHOICES:
            break
        if slot not in chosen:
            chosen.append(slot)
    chosen.sort(key=lambda s: s.starts_at)
    return chosen


def _offer_slots(
    reply: Reply, appointment: Appointment, *, slots: list[Any] | None = None, lead: Promise | None = None
) -> bool:
    language = _language(appointment)
    if slots is None:
        slots = slot_choices(appointment, now=reply.now)
    if not slots:
        return _no_slots(reply, appointment)
    lines = [
        f"{n}) {when_text(slot.starts_at, slot.location, appointment.patient, language)}"
        + (f" ({slot.location.name})" if slot.location.pk != appointment.location_id else "")
        for n, slot in enumerate(slots, start=1)
    ]
    numbers = [str(n) for n in range(1, len(slots) + 1)]
    pick = (
        numbers[0]
        if len(numbers) == 1
        else say(texts.PICK_LAST, language, numbers=", ".join(numbers[:-1]), last=numbers[-1])
    )
    body = say(texts.CHOICES, language, pick=pick, place=appointment.location.name, choices=" ".join(lines))
    if lead is not None:
        body = f"{say(lead, language)} {body}"
    sent = answer(reply, body, patient=appointment.patient)
    prompt_create(
        reply=reply,
        appointment=appointment,
        kind=PromptKind.RESCHEDULE,
        options=[_option(n, slot) for n, slot in enumerate(slots, start=1)],
        message=sent,
    )
    return True


def _no_slots(reply: Reply, appointment: Appointment) -> bool:
    from careline.core.phones import format_phone

    language = _language(appointment)
    when = when_text(appointment.starts_at, appointment.location, appointment.patient, language)
    flag_for_front_desk(
        conversation=reply.conversation,
        reason="asked to reschedule by text; no free time found",
        context=(
            f"{appointment.patient.display_name} asked by text to move their visit on {when} "
            f"({appointment.appointment_type.name} with {appointment.clinician} at {appointment.location.name}). "
            f"No free time of that type in the next {RESCHEDULE_DAYS} days fits. Their message: "
            f"\u201c{reply.message.body[:300]}\u201d"
        ),
    )
    phone = format_phone(appointment.location.phone)
    body = say(texts.NO_SLOTS, language, phone=phone)
    answer(reply, body, patient=appointment.patient)
    return True


def _choice_reply(reply: Reply, number: int) -> bool:
    """The patient picked slot NUMBER from the newest choices texted to them."""
    recent = prompts_with_visits(
        scheduling_prompts()
        .filter(
            phone_number=reply.conversation.contact,
            kind=PromptKind.RESCHEDULE,
            state__in=[PromptState.OPEN, PromptState.EXPIRED],
            created_at__gte=reply.now - EXPIRED_LOOKBACK,
        )
        .order_by("-created_at", "-id")
    )
    recent = [(p, visit) for p, visit in recent if _is_upcoming(visit, reply.now)]
    live = [(p, visit) for p, visit in recent if p.state == PromptState.OPEN and p.expires_at > reply.now]
    if len({visit.pk for _, visit in live}) > 1:
        _ambiguous(reply, [visit for _, visit in live])
        return False
    if not live:
        if not recent:
            return False
        appointment = recent[0][1]
        return _offer_slots(reply, appointment, lead=texts.CHOICES_EXPIRED)
    prompt, appointment = live[0]
    option = next((o for o in prompt.options if o.get("n") == number), None)
    if option is None:
        return False  # "7" to a choice of three: a person should read it
    taken = (
        scheduling_prompts().filter(pk=prompt.pk, state=PromptState.OPEN).update(state=PromptState.ANSWERED)
    )
    if not taken:
        return True  # a duplicate of a reply being answered right now
    return _move(reply, appointment, option)


def _move(reply: Reply, appointment: Appointment, option: dict[str, Any]) -> bool:
    from careline.scheduling.services.appointments import appointment_move

    starts_at = parse_datetime(option["starts_at"])
    clinician = User.objects.filter(pk=option["clinician_id"], is_active=True).first()
    location = Location.objects.filter(pk=option["location_id"]).first()
    language = _language(appointment)
    if starts_at is None or clinician is None or location is None:
        return False
    try:
        with transaction.atomic():
            new = appointment_move(
                appointment=appointment,
                starts_at=starts_at,
                actor=Actor.patient(appointment.patient_id),
                source=ChangeSource.TEXT,
                clinician=clinician,
                location=location,
            )
    except ValidationError:
        # Taken since it was offered (or no longer bookable): fresh choices.
        fresh = Appointment.objects.select_related(
            "patient__primary_location", "location", "clinician", "appointment_type"
        ).get(pk=appointment.pk)
        if not _is_upcoming(fresh, reply.now):
            return False
        return _offer_slots(reply, fresh, lead=texts.CHOICE_TAKEN)
    _close_prompts(appointment, reply.conversation.contact, PromptState.ANSWERED)
    when = when_text(new.starts_at, new.location, new.patient, language)
    body = say(texts.MOVED, language, when=when, place=new.location.name, address=new.location.address)
    answer(reply, body, patient=new.patient)
    return True


def _free_text(reply: Reply, appointment: Appointment) -> bool:
    """A day or time in the patient's words: matching free slots, else the inbox."""
    from careline.scheduling.services.reply_dates import time_wish_parse

    zone = appointment.patient.zone
    wish = time_wish_parse(reply.message.body, now=reply.now, zone=zone)
    if wish is None:
        return False
    start, end = wish.window(zone)
    nearest = datetime.combine(wish.day, wish.exact, tzinfo=zone) if wish.exact else None
    slots = slot_choices(appointment, now=reply.now, start=start, end=end, nearest=nearest)
    lead = None if slots else texts.NOTHING_THEN
    return _offer_slots(reply, appointment, slots=slots or None, lead=lead)


# --- to the front desk -------------------------------------------------------------------------------


def flag_for_front_desk(*, conversation: Conversation, reason: str, context: str) -> None:
    """Put CONVERSATION in front of the front desk: a flag event, the 'Front desk' tag, a note with CONTEXT."""
    conversation_flag(conversation=conversation, reason=reason)
    conversation_tag_automatic(conversation=conversation, name=FRONT_DESK_TAG)
    internal_note_add_automatic(conversation=conversation, text=context)


def _ambiguous(reply: Reply, visits: list[Appointment]) -> None:
    seen = {visit.pk: visit for visit in visits}
    lines = [
        f"- {a.patient.display_name}: {when_text(a.starts_at, a.location, None, 'en')} at {a.location.name} "
        f"with {a.clinician} ({a.get_status_display()})"
        for a in sorted(seen.values(), key=lambda a: a.starts_at)
    ]
    flag_for_front_desk(
        conversation=reply.conversation,
        reason="reply could be about more than one visit",
        context=(
            f"The reply \u201c{reply.message.body[:200]}\u201d could be about any of these visits "
            "(each has a reminder or question to this number). Please check with the patient:\n"
            + "\n".join(lines)
        ),
    )
