"""The demo clinic's outreach (called by careline/demo when it loads the clinic).

Birthday messages are on at the first location. Its "Annual physical due" audience (a marketing recall: a
dozen patients gave that consent) had a recall 20 days ago with a call-back offer: most texts delivered, a
few skipped (no consent), two patients asked to be called back (their conversations flagged for the front
desk) and three booked their physical since, so the campaign's page shows results. A care-related flu
vaccine recall for those 65 and over is scheduled for next week. Loading texts nobody: the past recall's
texts are stored as delivered.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Exists, OuterRef

from careline.core.actor import Actor
from careline.locations.models import Location
from careline.messaging.models import Message, MessageKind, MessageState
from careline.messaging.outbound.compose import conversation_for
from careline.messaging.outbound.policy import patient_sms_number
from careline.messaging.services.channels import simulator_channel
from careline.messaging.services.conversations import conversation_flag, internal_note_add_automatic
from careline.outreach.models import (
    Audience,
    BirthdaySetting,
    Campaign,
    CampaignOffer,
    CampaignState,
    Recall,
    RecallRule,
)
from careline.outreach.queries import audience_due, audience_purpose, skip_reasons
from careline.outreach.services.recalls import recall_text
from careline.patients.models import ConsentEvent, ConsentKind, ConsentMethod
from careline.scheduling.models import Appointment, AppointmentType, ChangeSource
from careline.scheduling.queries.appointments import free_slots
from careline.scheduling.services.appointments import appointment_book

RECALL_DAYS_AGO = 20
MARKETING_CONSENTS = 12
CALLBACKS = 2
BOOKED = 3


def outreach_seed_demo(*, location: Location, front_desk: Any, now: datetime) -> dict[str, int]:
    """Birthday messages on at LOCATION, two audiences, a recall sent with results and one scheduled; counts."""
    physical = AppointmentType.objects.filter(name="Annual physical").first()
    if physical is None or Audience.objects.exists():
        return {}
    BirthdaySetting.objects.update_or_create(
        location=location, defaults={"enabled": True, "updated_by": front_desk}
    )
    sent_at = now - timedelta(days=RECALL_DAYS_AGO)
    audience = Audience.objects.create(
        name="Annual physical due", location=location, rule=RecallRule.NO_VISIT, visit_type=physical, months=12,
        created_by=front_desk,
    )  # fmt: skip
    due = list(
        audience_due(audience, today=sent_at.astimezone(location.zone).date())
        .filter(Exists(ConsentEvent.objects.filter(patient=OuterRef("pk"), kind=ConsentKind.GIVEN)))
        .select_related("primary_location")
        .prefetch_related("phones")[: MARKETING_CONSENTS + 4]
    )
    for patient in due[:MARKETING_CONSENTS]:
        ConsentEvent.objects.create(
            phone_number=patient_sms_number(patient) or "",
            kind=ConsentKind.MARKETING_GIVEN, method=ConsentMethod.FORM, patient=patient, recorded_by=front_desk,
            occurred_at=sent_at - timedelta(days=60),
        )  # fmt: skip
    campaign = Campaign.objects.create(
        audience=audience, offer=CampaignOffer.CALLBACK, send_at=sent_at, state=CampaignState.DONE,
        claimed_at=sent_at, finished_at=sent_at, created_by=front_desk,
    )  # fmt: skip
    Campaign.objects.filter(pk=campaign.pk).update(created_at=sent_at - timedelta(days=1))
    channel = simulator_channel()
    reasons = skip_reasons(due, audience=audience, channel=channel, now=sent_at)
    recalls = []
    for patient in due:
        reason = reasons[patient.pk]
        message = None
        if not reason:
            number = patient_sms_number(patient) or ""
            message = Message.objects.create(
                conversation=conversation_for(channel=channel, contact=number, patient=patient), channel=channel,
                patient=patient, direction=Message.Direction.OUTBOUND, kind=MessageKind.AUTOMATED,
                purpose=audience_purpose(audience), to_address=number, from_address=channel.address,
                body=recall_text(campaign, patient), state=MessageState.DELIVERED, finished_at=sent_at,
                subject_key=f"recall:{campaign.pk}", idempotency_key=f"recall:{campaign.pk}:{patient.pk}",
            )  # fmt: skip
            Message.objects.filter(pk=message.pk).update(created_at=sent_at)
        recalls.append(
            Recall.objects.create(
                campaign=campaign, patient=patient, message=message, skipped_reason=reason, created_at=sent_at
            )
        )
    sent = [recall for recall in recalls if recall.message is not None]
    for recall in sent[:CALLBACKS]:
        Recall.objects.filter(pk=recall.pk).update(callback_requested_at=sent_at + timedelta(hours=3))
        conversation = recall.message.conversation  # type: ignore[union-attr]
        conversation_flag(conversation=conversation, reason="asked to be called back to book (recall)")
        internal_note_add_automatic(
            conversation=conversation,
            text=f"Replied CALL to the recall “{audience.name}”: call them back to book a visit.",
        )
    booked = 0
    for offset, recall in enumerate(sent[CALLBACKS : CALLBACKS + BOOKED]):
        # Booked like any visit (a free slot, reminders planned), in the coming days.
        day = now + timedelta(days=1 + offset)
        slots = free_slots(
            appointment_type=physical,
            start=day,
            end=now + timedelta(days=6),
            location=location,
            limit=1,
            now=now,
        )
        if not slots:
            continue
        visit = appointment_book(
            patient=recall.patient, clinician=slots[0].clinician, location=location, appointment_type=physical,
            starts_at=slots[0].starts_at, actor=Actor.staff(front_desk), source=ChangeSource.STAFF, notify=False,
        )  # fmt: skip
        Appointment.objects.filter(pk=visit.pk).update(created_at=sent_at + timedelta(days=2 + offset))
        booked += 1
    flu = Audience.objects.create(
        name="Flu vaccine, 65 and over", location=location, rule=RecallRule.VACCINE, vaccine="Influenza",
        months=12, min_age=65, care_related=True, created_by=front_desk,
    )  # fmt: skip
    Campaign.objects.create(
        audience=flu, offer=CampaignOffer.LINK, send_at=now + timedelta(days=7), created_by=front_desk
    )
    return {"recall_audiences": 2, "recalls": len(recalls), "recalls_booked": booked}
