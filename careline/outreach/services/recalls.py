"""Recall audiences and campaigns: saving them, the sweep that sends a campaign when due, and its texts.

A campaign is a row first (scheduled, with its send time); the sweep (`outreach.recalls_sweep`, every
CARELINE_SWEEP_SECONDS) claims a due one with a conditional update, finds the audience's due patients again
at that moment and sends each one text through messaging's bulk path (consent, opt-out, the purpose's
consent, deceased, confidential and quiet hours all applied there) under the key
"recall:<campaign>:<patient>", so a second run, or a resumed one after a worker died, sends nothing twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.core.languages import say
from careline.core.phones import format_phone
from careline.messaging.models import Message, MessageKind, MessageState, Prompt
from careline.messaging.outbound.bulk import OutboundItem, messages_send_bulk
from careline.messaging.services.channels import channel_default
from careline.messaging.services.prompts import prompts_record_once
from careline.messaging.template_values import patient_values
from careline.messaging.templating import TemplateKind, template_render, template_validate
from careline.outreach.models import Audience, Campaign, CampaignOffer, CampaignState, Recall, RecallRule
from careline.outreach.queries import (
    RECALLED_RECENTLY,
    audience_due,
    audience_purpose,
    skip_reasons,
)
from careline.outreach.services.replies import OWNER, PROMPT_KIND
from careline.outreach.texts import (
    RECALL_BODY,
    RECALL_OFFER_CALLBACK,
    RECALL_OFFER_CALLBACK_NO_PHONE,
    RECALL_OFFER_LINK,
)
from careline.patients.models import Patient

SEND_BATCH = 500
# A campaign claimed this long ago and still sending lost its worker: the sweep takes it again.
STALE_CLAIM = timedelta(minutes=10)


def recall_key(campaign_id: int, patient_id: int) -> str:
    return f"recall:{campaign_id}:{patient_id}"


def booking_link() -> str:
    """The portal's page to request a visit (it asks for sign-in), else the clinic's address."""
    try:
        path = reverse("portal:visit_request")
    except NoReverseMatch:  # the portal is not installed
        path = "/"
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def audience_check(audience: Audience) -> None:
    """ValidationError unless AUDIENCE's rule has what it needs."""
    if audience.rule == RecallRule.NO_VISIT and audience.visit_type_id is None:
        raise ValidationError("Choose the appointment type patients are due for.")
    if audience.rule == RecallRule.FOLLOW_UP and audience.visit_type_id is None:
        raise ValidationError("Choose the follow-up appointment type.")
    if audience.rule == RecallRule.FOLLOW_UP and not audience.weeks:
        raise ValidationError("Say how many weeks after the visit the follow-up is due.")
    if audience.rule == RecallRule.VACCINE and not audience.vaccine.strip():
        raise ValidationError("Name the vaccine as it is recorded (for example Influenza).")
    if audience.rule in (RecallRule.NO_VISIT, RecallRule.FOLLOW_UP) and not audience.months:
        raise ValidationError("The number of months must be at least 1.")
    if audience.min_age is not None and audience.max_age is not None and audience.min_age > audience.max_age:
        raise ValidationError("The youngest age is above the oldest age.")


def audience_save(*, audience: Audience, actor: Actor) -> Audience:
    """Create or change a saved audience (checked first); audited."""
    audience_check(audience)
    created = audience.pk is None
    with transaction.atomic():
        if created:
            audience.created_by = actor.staff_user
        audience.save()
        audit_record(
            actor=actor,
            action=AuditAction.CREATE if created else AuditAction.UPDATE,
            obj=audience,
            detail=f"recall audience; rule {audience.rule}; location {audience.location_id}",
        )
    return audience


def campaign_create(
    *,
    audience: Audience,
    body: str,
    translations: dict[str, str],
    offer: str,
    send_at: datetime,
    actor: Actor,
) -> Campaign:
    """Schedule a recall of AUDIENCE at SEND_AT (now when in the past); TemplateProblem for a bad text."""
    for text in (body, *translations.values()):
        if text:
            template_validate(text, kind=TemplateKind.ANNOUNCEMENT)
    if offer not in CampaignOffer.values:
        raise ValidationError("Choose how patients book: a link or a call back.")
    with transaction.atomic():
        campaign = Campaign.objects.create(
            audience=audience,
            body=body.strip(),
            translations={code: text.strip() for code, text in translations.items() if text.strip()},
            offer=offer,
            send_at=max(send_at, timezone.now()),
            created_by=actor.staff_user,
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=campaign,
            detail=f"recall campaign of audience {audience.pk}; offer {offer}; at {campaign.send_at:%Y-%m-%d %H:%M} UTC",
        )
    return campaign


def campaign_cancel(*, campaign: Campaign, actor: Actor) -> bool:
    """Cancel a campaign that has not started sending; False when it already has."""
    with transaction.atomic():
        cancelled = Campaign.objects.filter(pk=campaign.pk, state=CampaignState.SCHEDULED).update(
            state=CampaignState.CANCELLED, finished_at=timezone.now()
        )
        if cancelled:
            audit_record(
                actor=actor, action=AuditAction.UPDATE, obj=campaign, detail="recall campaign cancelled"
            )
    return bool(cancelled)


def recall_text(campaign: Campaign, patient: Patient) -> str:
    """The recall PATIENT gets: the campaign's text (or Careline's) in their language, then how to book."""
    location = campaign.audience.location
    values = patient_values(patient=patient, location=location)
    values["link"] = booking_link()
    template = campaign.body_for(patient.language) or say(RECALL_BODY, patient.language)
    body = template_render(template, values, kind=TemplateKind.ANNOUNCEMENT)
    if campaign.offer == CampaignOffer.LINK:
        offer = say(RECALL_OFFER_LINK, patient.language, link=values["link"])
    elif location.phone:
        offer = say(
            RECALL_OFFER_CALLBACK,
            patient.language,
            word=settings.CARELINE_REPLY_CALLBACK,
            phone=format_phone(location.phone),
        )
    else:
        offer = say(RECALL_OFFER_CALLBACK_NO_PHONE, patient.language, word=settings.CARELINE_REPLY_CALLBACK)
    return f"{body} {offer}"


def campaigns_claim(*, now: datetime) -> list[int]:
    """Claim the campaigns due now (and those whose sending worker was lost); their ids."""
    due = list(
        Campaign.objects.filter(state=CampaignState.SCHEDULED, send_at__lte=now).values_list("pk", flat=True)
    ) + list(
        Campaign.objects.filter(state=CampaignState.SENDING, claimed_at__lt=now - STALE_CLAIM).values_list(
            "pk", flat=True
        )
    )
    claimed: list[int] = []
    for campaign_id in due:
        # Conditional: a second sweep racing this one claims nothing (the state or claim time moved on).
        taken = (
            Campaign.objects.filter(pk=campaign_id)
            .filter(_scheduled_or_stale(now))
            .update(state=CampaignState.SENDING, claimed_at=now)
        )
        if taken:
            claimed.append(campaign_id)
    return claimed


def _scheduled_or_stale(now: datetime) -> Any:
    from django.db.models import Q

    return Q(state=CampaignState.SCHEDULED, send_at__lte=now) | Q(
        state=CampaignState.SENDING, claimed_at__lt=now - STALE_CLAIM
    )


def campaign_send(*, campaign_id: int) -> int:
    """Text every due patient of a claimed campaign not yet recalled by it; the number of recalls made now."""
    campaign = (
        Campaign.objects.select_related("audience", "audience__location").filter(pk=campaign_id).first()
    )
    if campaign is None or campaign.state != CampaignState.SENDING:
        return 0
    audience = campaign.audience
    now = timezone.now()
    today = now.astimezone(audience.location.zone).date()
    channel = channel_default("sms")
    due = audience_due(audience, today=today).select_related("primary_location").prefetch_related("phones")
    made = 0
    last = 0
    while True:
        batch = list(due.filter(pk__gt=last)[:SEND_BATCH])
        if not batch:
            break
        last = batch[-1].pk
        done = set(
            Recall.objects.filter(campaign=campaign, patient__in=batch).values_list("patient_id", flat=True)
        )
        todo = [patient for patient in batch if patient.pk not in done]
        if todo:
            made += _send_batch(campaign, todo, channel=channel, now=now)
        Campaign.objects.filter(pk=campaign.pk, state=CampaignState.SENDING).update(claimed_at=timezone.now())
    Campaign.objects.filter(pk=campaign.pk, state=CampaignState.SENDING).update(
        state=CampaignState.DONE, finished_at=timezone.now()
    )
    return made


def _send_batch(campaign: Campaign, patients: list[Patient], *, channel: Any, now: datetime) -> int:
    """Recalls for PATIENTS: a text for each (a suppressed one says why) or a row saying why none went."""
    reasons = skip_reasons(patients, audience=campaign.audience, channel=channel, now=now)
    recent = {p.pk for p in patients if reasons[p.pk] == RECALLED_RECENTLY}
    senders = [p for p in patients if p.pk not in recent]
    messages: dict[str, Message | Exception] = {}
    with transaction.atomic():
        if senders and channel is not None:
            items = [
                OutboundItem(
                    body=recall_text(campaign, patient),
                    idempotency_key=recall_key(campaign.pk, patient.pk),
                    patient=patient,
                    subject_key=f"recall:{campaign.pk}",
                )
                for patient in senders
            ]
            messages.update(
                messages_send_bulk(
                    items=items,
                    channel=channel,
                    kind=MessageKind.AUTOMATED,
                    purpose=audience_purpose(campaign.audience),
                )
            )
        rows = []
        for patient in patients:
            message = messages.get(recall_key(campaign.pk, patient.pk))
            sent = message if isinstance(message, Message) else None
            reason = reasons[patient.pk] if sent is None else ""
            rows.append(
                Recall(
                    campaign=campaign,
                    patient=patient,
                    message=sent,
                    skipped_reason=reason or ("refused" if sent is None else ""),
                    created_at=now,
                )
            )
        Recall.objects.bulk_create(rows, ignore_conflicts=True)
        if campaign.offer == CampaignOffer.CALLBACK:
            _prompts(campaign, [row.message for row in rows if row.message is not None], now=now)
    return len(rows)


def _prompts(campaign: Campaign, messages: list[Message], *, now: datetime) -> None:
    """The question "Reply CALL ..." on each recall that will go, so the reply router brings the answer here."""
    expires = now + timedelta(days=settings.CARELINE_RECALL_REPLY_DAYS)
    recall_ids = dict(
        Recall.objects.filter(campaign=campaign, message__in=messages).values_list("message_id", "pk")
    )
    prompts_record_once(
        prompts=[
            Prompt(
                owner=OWNER,
                kind=PROMPT_KIND,
                phone_number=message.to_address,
                conversation_id=message.conversation_id,
                message=message,
                options=[settings.CARELINE_REPLY_CALLBACK],
                subject_key=f"recall:{recall_ids[message.pk]}",
                expires_at=expires,
            )
            for message in messages
            if message.state == MessageState.QUEUED and message.pk in recall_ids
        ]
    )


def recalls_sweep() -> dict[str, int]:
    """Send the campaigns that are due (beat: every CARELINE_SWEEP_SECONDS)."""
    now = timezone.now()
    sent = 0
    claimed = campaigns_claim(now=now)
    for campaign_id in claimed:
        sent += campaign_send(campaign_id=campaign_id)
    return {"campaigns": len(claimed), "recalls": sent}
