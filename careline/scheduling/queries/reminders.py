"""Reads for reminders: each appointment's reminders with delivery, suppression and the patient's replies."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import QuerySet

from careline.messaging.models import Message, MessageState, SuppressionReason
from careline.messaging.outbound.policy import patient_text_reason
from careline.patients.models import Channel as ContactChannel
from careline.patients.models import ContactPreference, Patient, Purpose
from careline.scheduling.models import Appointment, Reminder, ReminderReplan, ReminderRule, ReminderState
from careline.scheduling.queries.appointments import staff_when

SUPPRESSION_WORDS: dict[str, str] = {
    SuppressionReason.OPTED_OUT: "not sent: the number opted out (STOP)",
    SuppressionReason.NO_CONSENT: "not sent: no text-message consent on file",
    SuppressionReason.LANDLINE: "not sent: the number is a landline",
}


# Why a patient's appointment reminders cannot go by text, as staff read it after "No text reminders: ".
NO_TEXT_REASONS: dict[str, str] = {
    SuppressionReason.NO_CONTACT: "no mobile number on file",
    SuppressionReason.LANDLINE: "the number is a landline",
    SuppressionReason.OPTED_OUT: "the patient opted out of texts (STOP)",
    SuppressionReason.NO_CONSENT: "no consent to text reminders on file",
    SuppressionReason.INVALID_NUMBER: "the number is not valid",
    SuppressionReason.CONFIDENTIAL: "confidential communications (no texts or email)",
    SuppressionReason.DECEASED: "the patient is recorded as deceased",
}


@dataclass(frozen=True)
class TextReach:
    """Whether a patient's appointment reminders can go by text, and what email offers instead."""

    reason: str  # '' when they can; else why not, as in NO_TEXT_REASONS
    email: str  # the patient's email address ('' when none)
    prefers_email: bool  # the patient's appointment reminders go by email already
    confidential: bool

    @property
    def may_offer_email(self) -> bool:
        """Email may be offered instead: the patient cannot be texted, has an address and is not confidential."""
        return bool(self.reason and self.email and not self.confidential and not self.prefers_email)


def reminder_text_reach(patient: Patient) -> TextReach:
    """Whether PATIENT can be reminded of visits by text (messaging's rules, asked before sending anything)."""
    code = patient_text_reason(patient, purpose=Purpose.APPOINTMENTS)
    reason = NO_TEXT_REASONS.get(code, SuppressionReason(code).label.lower()) if code else ""
    preference = (
        ContactPreference.objects.filter(patient=patient, purpose=Purpose.APPOINTMENTS)
        .values_list("channel", flat=True)
        .first()
    )
    return TextReach(
        reason=reason,
        email=patient.email,
        prefers_email=preference == ContactChannel.EMAIL and bool(patient.email),
        confidential=patient.confidential_communications,
    )


@dataclass
class ReminderRow:
    """One reminder as staff see it on the appointment page."""

    reminder: Reminder
    due_local: datetime
    delivery: str
    why: str
    replies: list[Message] = field(default_factory=list)

    @property
    def due_text(self) -> str:
        """'Wed 5 Feb 2025, 18:00 CST' on the patient's clock (the appointment pages' one format, and the zone)."""
        local = self.due_local
        return f"{staff_when(local, local.tzinfo)} {local.tzname()}"  # type: ignore[arg-type]


def _why(reminder: Reminder, message: Message | None) -> str:
    if message is not None:
        if message.state == MessageState.SUPPRESSED:
            reason = message.suppression_reason
            return SUPPRESSION_WORDS.get(
                reason, f"not sent: {message.get_suppression_reason_display().lower()}"
            )
        if message.state == MessageState.QUEUED and message.held_for_quiet_hours:
            return "quiet hours: waiting for the texting window"
        if message.state == MessageState.FAILED:
            return f"delivery failed: {message.error_message or message.error_code}"
        if message.state == MessageState.CANCELLED:
            return message.error_message  # withdrawn before it went: why ("Withdrawn: the visit moved")
        return ""
    if reminder.state == ReminderState.PENDING and reminder.held_for_quiet_hours:
        return "moved earlier, out of quiet hours"
    return reminder.skip_reason


def appointment_reminder_rows(appointment: Appointment) -> list[ReminderRow]:
    """APPOINTMENT's reminders (due time in the patient's zone), their messages' states and replies to them."""
    reminders = list(
        Reminder.objects.filter(appointment=appointment)
        .select_related("rule", "message")
        .order_by("due_at", "id")
    )
    zone = appointment.patient.zone
    sent = [r.message for r in reminders if r.message is not None]
    inbound: list[Message] = []
    if sent:
        first = min(m.created_at for m in sent)
        inbound = list(
            Message.objects.filter(
                conversation_id__in={m.conversation_id for m in sent},
                direction=Message.Direction.INBOUND,
                created_at__gte=first,
            ).order_by("created_at", "id")[:50]
        )
    starts = sorted(m.created_at for m in sent)
    rows = []
    for reminder in reminders:
        message = reminder.message
        replies: list[Message] = []
        if message is not None:
            later = [t for t in starts if t > message.created_at]
            until = later[0] if later else None
            replies = [
                m
                for m in inbound
                if m.conversation_id == message.conversation_id
                and m.created_at >= message.created_at
                and (until is None or m.created_at < until)
            ]
        rows.append(
            ReminderRow(
                reminder=reminder,
                due_local=reminder.due_at.astimezone(zone),
                delivery=message.get_state_display() if message is not None else reminder.get_state_display(),
                why=_why(reminder, message),
                replies=replies,
            )
        )
    return rows


def reminder_replans_recent(limit: int = 5) -> list[ReminderReplan]:
    """The latest re-plans of upcoming visits' reminders after rule changes, newest first."""
    return list(ReminderReplan.objects.select_related("rule").order_by("-created_at", "-id")[:limit])


def reminder_rules_listed() -> QuerySet[ReminderRule]:
    """Every reminder rule with its types and locations, active ones first."""
    return ReminderRule.objects.prefetch_related("appointment_types", "locations").order_by(
        "-is_active", "name"
    )
