"""Referring a patient to an outside provider, moving the referral through its states, and the patient's notice.

A referral is made by a clinician (Perm.REFERRAL_CREATE) with the patient's consent recorded on the row; its
reason is staff-only. Every change of state is a `ReferralEvent` (who, when, from where) and an audit entry.
The patient gets the provider's contact details by their care channel (email when they chose it and have an
address, else a text) through `message_send` (purpose care: consent, opt-outs and quiet hours apply), without
the reason; a mental-health referral's text carries the 988 line. The "were you able to book?" check-in is
due `CARELINE_REFERRAL_CHECKIN_DAYS` after sending (`services/checkins.py` sends it).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from careline.core.actor import Actor, ActorKind
from careline.core.audit import AuditAction, audit_patient_access
from careline.core.languages import say, text_language
from careline.patients.models import ContactPreference, Patient, Purpose
from careline.referrals.models import (
    CHECKIN_STATES,
    TRANSITIONS,
    OutsideProvider,
    ProviderKind,
    Referral,
    ReferralEvent,
    ReferralState,
)
from careline.referrals.services.prompts import prompts_close
from careline.referrals.texts import (
    CONTACT_ADDRESS,
    CONTACT_EMAIL,
    CONTACT_PHONE,
    CONTACT_TEXTS,
    CONTACT_WEBSITE,
    CRISIS_LINE,
    NOTICE,
    NOTICE_SUBJECT,
    referral_text,
)

logger = logging.getLogger(__name__)

NOT_CONSENTED = "Record the patient's consent to the referral first."
INACTIVE_PROVIDER = "This provider is no longer in the directory."


def checkin_delay() -> timedelta:
    return timedelta(days=settings.CARELINE_REFERRAL_CHECKIN_DAYS)


def _source_of(actor: Actor) -> str:
    if actor.kind == ActorKind.PATIENT:
        return ReferralEvent.Source.PATIENT_TEXT
    if actor.user is None:
        return ReferralEvent.Source.SYSTEM
    return ReferralEvent.Source.STAFF


def referral_create(
    *,
    patient: Patient,
    provider: OutsideProvider,
    reason: str,
    consent_given: bool,
    actor: Actor,
    notify: bool = True,
    now: datetime | None = None,
) -> Referral:
    """Refer PATIENT to PROVIDER (consent required); the patient is sent the provider's details after commit."""
    if not consent_given:
        raise ValidationError({"consent_given": [NOT_CONSENTED]})
    if not provider.active:
        raise ValidationError({"provider": [INACTIVE_PROVIDER]})
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": ["Give the reason (staff only)."]})
    now = now or timezone.now()
    with transaction.atomic():
        referral = Referral.objects.create(
            patient=patient,
            provider=provider,
            location=patient.primary_location,
            referred_by=actor.user,
            reason=reason,
            consent_given_at=now,
            consent_recorded_by=actor.user,
            state=ReferralState.SENT,
            state_changed_at=now,
            created_at=now,
            next_checkin_at=now + checkin_delay(),
        )
        ReferralEvent.objects.create(
            referral=referral, from_state="", to_state=ReferralState.SENT, at=now, source=_source_of(actor),
            by=actor.user, note="Referred, with the patient's consent",
        )  # fmt: skip
        audit_patient_access(
            actor=actor,
            action=AuditAction.CREATE,
            patient_id=patient.pk,
            obj=referral,
            detail=f"referral to outside provider {provider.pk}, consent recorded",
        )
        if notify:
            transaction.on_commit(lambda: referral_notice_send(referral.pk))
    return referral


def referral_set_state(
    *, referral: Referral, state: str, actor: Actor, note: str = "", now: datetime | None = None
) -> bool:
    """Move REFERRAL to STATE (allowed by TRANSITIONS) with a history event; False when it already was there.

    A conditional update on the state read, so two people (or the patient's text and a person) racing make one
    change. A referral that leaves the states a check-in asks about has no check-in due any more.
    """
    now = now or timezone.now()
    current = referral.state
    if state == current:
        return False
    if state not in TRANSITIONS.get(current, frozenset()):
        raise ValidationError(
            f"A referral cannot move from {ReferralState(current).label.lower()} to "
            f"{ReferralState(state).label.lower() if state in ReferralState.values else state}."
        )
    fields: dict[str, Any] = {"state": state, "state_changed_at": now}
    if state not in CHECKIN_STATES:
        fields["next_checkin_at"] = None
    if _source_of(actor) == ReferralEvent.Source.STAFF:
        fields["needs_help"] = False  # a person has dealt with the patient's request for help
    with transaction.atomic():
        if not Referral.objects.filter(pk=referral.pk, state=current).update(**fields):
            referral.refresh_from_db()
            return False
        ReferralEvent.objects.create(
            referral=referral, from_state=current, to_state=state, at=now, source=_source_of(actor),
            by=actor.user, note=note.strip()[:300],
        )  # fmt: skip
        if state not in CHECKIN_STATES:
            prompts_close(referral.pk)
        audit_patient_access(
            actor=actor,
            action=AuditAction.UPDATE,
            patient_id=referral.patient_id,
            obj=referral,
            detail=f"referral state {current} -> {state}",
        )
    for name, value in fields.items():
        setattr(referral, name, value)
    return True


def notice_channel(patient: Patient) -> Any:
    """The channel the provider's details go by: email when the care preference is email (or the portal) and
    there is an address, else a text; None when no channel is configured."""
    from careline.messaging.services.channels import channel_default

    preference = (
        ContactPreference.objects.filter(patient=patient, purpose=Purpose.CARE)
        .values_list("channel", flat=True)
        .first()
    )
    if preference in ("email", "portal") and patient.email:
        return channel_default("email") or channel_default("sms")
    return channel_default("sms")


def provider_contact_lines(provider: OutsideProvider, language: str) -> list[str]:
    """How to reach PROVIDER, one sentence per way, in LANGUAGE (what staff typed, no reason)."""
    lines = []
    if provider.phone:
        lines.append(say(CONTACT_PHONE, language, phone=provider.phone))
        if provider.takes_texts:
            lines.append(say(CONTACT_TEXTS, language))
    if provider.email:
        lines.append(say(CONTACT_EMAIL, language, email=provider.email))
    if provider.address:
        lines.append(say(CONTACT_ADDRESS, language, address=provider.address))
    if provider.website:
        lines.append(say(CONTACT_WEBSITE, language, website=provider.website))
    return lines


def crisis_line(provider: OutsideProvider, language: str) -> str:
    """The 988 line for a mental-health provider's texts, else nothing."""
    return say(CRISIS_LINE, language) if provider.kind == ProviderKind.MENTAL_HEALTH else ""


def referral_notice_body(referral: Referral) -> str:
    """The patient's text: who they are referred to and how to reach them (and 988 for mental health)."""
    from careline.messaging.template_values import patient_values

    patient = referral.patient
    language = text_language(patient.language)
    fields = patient_values(patient=patient, location=referral.location)
    head = referral_text(NOTICE, language, fields, provider=referral.provider.name)
    parts = [
        head,
        *provider_contact_lines(referral.provider, language),
        crisis_line(referral.provider, language),
    ]
    return " ".join(part for part in parts if part)


def referral_notice_send(referral_id: int) -> Any:
    """Send the patient the provider's contact details (once: keyed on the referral); None when refused."""
    from careline.messaging.models import MessageKind
    from careline.messaging.outbound.compose import MessageRefused, message_send
    from careline.messaging.template_values import patient_values

    referral = (
        Referral.objects.select_related("patient__primary_location", "provider", "location")
        .filter(pk=referral_id)
        .first()
    )
    if referral is None:
        return None
    channel = notice_channel(referral.patient)
    if channel is None:
        logger.info("referral %s: no channel for the notice", referral_id)
        return None
    patient = referral.patient
    language = text_language(patient.language)
    extra: dict[str, Any] = {}
    if "email" in channel.type.capabilities:
        fields = patient_values(patient=patient, location=referral.location)
        extra["subject"] = referral_text(NOTICE_SUBJECT, language, fields)
    try:
        return message_send(
            body=referral_notice_body(referral),
            patient=patient,
            channel=channel,
            kind=MessageKind.AUTOMATED,
            purpose=Purpose.CARE,
            idempotency_key=f"referral-notice:{referral.pk}",
            subject_key=f"referral:{referral.pk}",
            **extra,
        )
    except MessageRefused as refused:
        logger.info("referral %s notice refused: %s", referral_id, refused)
        return None
