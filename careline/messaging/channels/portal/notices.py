"""The notice that a portal message is waiting: by the patient's preferred channel, never with its content.

A staff reply delivered in a portal conversation queues `portal_reply_notice` (the type's send, by task
name). The notice goes through `message_send` like any automated text or email, so consent, opt-outs,
quiet hours and confidential communications apply. Several replies within NOTICE_COALESCE make one
notice: a patient answered three times in five minutes hears from the clinic once.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from careline.core.languages import say, text_language
from careline.messaging.models import Channel, Message, MessageKind, MessageState
from careline.messaging.outbound.compose import MessageRefused, message_send
from careline.messaging.template_values import clinic_name_for
from careline.patients.models import ContactPreference, Patient, Purpose

logger = logging.getLogger(__name__)

NOTICE_COALESCE = timedelta(minutes=15)
NOTICE_SUBJECT_PREFIX = "portal-notice"
PORTAL_PATH = "/portal/"  # where careline/urls.py mounts the portal (messaging cannot reverse a higher app)

NOTICE_TEXT = pgettext_lazy(
    "portal message notice",
    "{clinic}: you have a new message in your patient portal. Sign in to read it: {link}",
)
NOTICE_SUBJECT = pgettext_lazy("portal message notice", "A new message in your patient portal")


def notice_subject_key(patient_id: int) -> str:
    """The subject of a patient's portal notices (what coalescing looks at)."""
    return f"{NOTICE_SUBJECT_PREFIX}:{patient_id}"


def notice_channel(patient: Patient) -> Channel | None:
    """The patient's preferred channel for care messages: email when they chose it and have an address."""
    from careline.messaging.services.channels import channel_default

    preference = (
        ContactPreference.objects.filter(patient=patient, purpose=Purpose.CARE)
        .values_list("channel", flat=True)
        .first()
    )
    if preference == "email" and patient.email:
        return channel_default("email") or channel_default("sms")
    return channel_default("sms")


def portal_reply_notice(message_id: int) -> Message | None:
    """Tell the patient a staff message is waiting in the portal; None when no notice is due.

    Only for a delivered staff message; none when a notice went (or waits) within NOTICE_COALESCE. The
    patient's row is locked meanwhile, so two replies delivered at once still make one notice.
    """
    message = (
        Message.objects.select_related("patient__primary_location", "conversation")
        .filter(pk=message_id, direction=Message.Direction.OUTBOUND)
        .first()
    )
    if message is None or message.kind != MessageKind.STAFF or message.state != MessageState.DELIVERED:
        return None
    patient = message.patient
    if patient is None:
        return None
    subject_key = notice_subject_key(patient.pk)
    with transaction.atomic():
        Patient.objects.select_for_update().filter(pk=patient.pk).first()
        recent = Message.objects.filter(
            subject_key=subject_key, created_at__gte=timezone.now() - NOTICE_COALESCE
        ).exclude(state=MessageState.CANCELLED)
        if recent.exists():
            return None
        channel = notice_channel(patient)
        if channel is None:
            logger.warning("No channel to tell patient %s of a portal message", patient.pk)
            return None
        language = text_language(patient.language)
        body = say(
            NOTICE_TEXT,
            language,
            clinic=clinic_name_for(patient.primary_location, language),
            link=settings.PUBLIC_BASE_URL + PORTAL_PATH,
        )
        subject = say(NOTICE_SUBJECT, language) if "email" in channel.type.capabilities else ""
        try:
            return message_send(
                body=body,
                patient=patient,
                channel=channel,
                kind=MessageKind.AUTOMATED,
                purpose=Purpose.CARE,
                idempotency_key=f"{NOTICE_SUBJECT_PREFIX}:message:{message.pk}",
                subject_key=subject_key,
                subject=subject,
            )
        except MessageRefused:
            logger.warning("The portal notice for patient %s was refused", patient.pk)
            return None
