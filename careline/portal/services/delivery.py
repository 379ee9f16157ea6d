"""Sending the portal's own texts and emails (invitations, one-time codes) through messaging's pipeline.

Nothing here goes around `message_send`: consent, opt-outs, confidential communications and quiet hours
decide as for any automated message. What became of the message (queued, held until a time, suppressed
and why) is returned so the page can say so: a text that cannot go is reported, never silently lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from careline.messaging.models import Message, MessageKind, MessageState, SuppressionReason
from careline.messaging.outbound.compose import MessageRefused, message_send
from careline.messaging.services.channels import channel_default
from careline.patients.models import Patient, Purpose


class Delivery:
    SENT = "sent"
    HELD = "held"
    SUPPRESSED = "suppressed"


@dataclass(frozen=True)
class DeliveryOutcome:
    """What became of one message: SENT (queued to go now), HELD until RELEASE_AT, or SUPPRESSED for REASON."""

    outcome: str
    message: Message | None = None
    reason: str = ""
    release_at: datetime | None = None

    @property
    def went(self) -> bool:
        return self.outcome != Delivery.SUPPRESSED


def delivery_of(message: Message) -> DeliveryOutcome:
    """The outcome MESSAGE stands at now."""
    if message.state == MessageState.SUPPRESSED:
        label = SuppressionReason(message.suppression_reason).label if message.suppression_reason else ""
        return DeliveryOutcome(Delivery.SUPPRESSED, message, label or message.suppression_reason)
    if message.held_for_quiet_hours and message.state == MessageState.QUEUED:
        return DeliveryOutcome(Delivery.HELD, message, "", message.due_at)
    return DeliveryOutcome(Delivery.SENT, message)


def portal_message_send(
    *,
    channel_kind: str,
    address: str,
    patient: Patient | None,
    body: str,
    subject: str,
    subject_key: str,
    urgent: bool = False,
    sensitive: bool = False,
) -> DeliveryOutcome:
    """Send BODY to ADDRESS by CHANNEL_KIND ('sms' or 'email') as an automated, general-purpose message.

    URGENT skips quiet hours only (a code the patient asked for this minute is useless in the morning);
    consent and opt-out still decide. SENSITIVE (a code, an invitation's link) keeps the text from staff.
    """
    channel = channel_default(channel_kind)
    if channel is None:
        return DeliveryOutcome(Delivery.SUPPRESSED, None, SuppressionReason.CHANNEL_DISABLED.label)
    try:
        message = message_send(
            body=body,
            patient=patient,
            to_address=address,
            channel=channel,
            kind=MessageKind.AUTOMATED,
            purpose=Purpose.GENERAL,
            subject=subject if channel_kind == "email" else "",
            urgent=urgent,
            subject_key=subject_key,
            sensitive=sensitive,
        )
    except MessageRefused as refused:
        return DeliveryOutcome(Delivery.SUPPRESSED, None, str(refused))
    return delivery_of(message)
