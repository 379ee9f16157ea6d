"""Planning and sending post-visit surveys.

A completed visit at a location with surveys on gets a `SurveyRequest` due `delay_minutes` later (in the
visit's transaction, one per visit). The sweep sends what is due: by the patient's preferred channel for
general messages (email when chosen and known, else text), through `message_send` (consent, opt-outs and
quiet hours: a survey due at night is held until the texting window opens), at most once per patient per
`SURVEY_INTERVAL`. Rows are claimed with a conditional update, so two sweeps send once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from careline.core.languages import say, text_language
from careline.patients.models import ContactPreference, Patient, Purpose
from careline.scheduling.events import AppointmentStatusChanged
from careline.scheduling.models import Appointment, AppointmentStatus
from careline.surveys.models import SCALE_RANGE, Scale, SurveyRequest, SurveySettings, SurveyState
from careline.surveys.texts import ASK_CSAT, ASK_NPS, ASK_SUBJECT

logger = logging.getLogger(__name__)

OWNER = "survey"  # the reply router's owner code ("surveys" is the router's own test feature)
SURVEY_INTERVAL = timedelta(days=30)
SCORE_LIFETIME = timedelta(days=3)
COMMENT_LIFETIME = timedelta(hours=24)
SWEEP_BATCH = 500


def survey_subject(pk: int) -> str:
    return f"survey:{pk}"


def survey_settings_for(location_id: int) -> SurveySettings | None:
    return SurveySettings.objects.filter(location_id=location_id).first()


def surveys_on_status_changed(event: AppointmentStatusChanged) -> None:
    """A visit completed at a location that asks: plan its survey (in the visit's transaction, once)."""
    if event.to_status != AppointmentStatus.COMPLETED:
        return
    appointment = Appointment.objects.filter(pk=event.appointment_id).first()
    if appointment is None:
        return
    config = survey_settings_for(appointment.location_id)
    if config is None or not config.enabled:
        return
    SurveyRequest.objects.get_or_create(
        appointment=appointment,
        defaults={
            "patient_id": appointment.patient_id,
            "location_id": appointment.location_id,
            "clinician_id": appointment.clinician_id,
            "appointment_type_id": appointment.appointment_type_id,
            "scale": config.scale,
            "due_at": timezone.now() + timedelta(minutes=config.delay_minutes),
        },
    )


def survey_channel(patient: Patient) -> Any:
    """The channel a survey to PATIENT goes by: email when preferred for general messages and known, else text."""
    from careline.messaging.services.channels import channel_default

    preference = (
        ContactPreference.objects.filter(patient=patient, purpose=Purpose.GENERAL)
        .values_list("channel", flat=True)
        .first()
    )
    if preference == "email" and patient.email:
        return channel_default("email") or channel_default("sms")
    return channel_default("sms")


def survey_question(survey: SurveyRequest, patient: Patient, *, link: str = "") -> str:
    """The question in the patient's language, with the allow-listed fields (and the answer link by email)."""
    from careline.messaging.template_values import patient_values
    from careline.messaging.templating import TemplateKind, template_render

    language = text_language(patient.language)
    text = say(ASK_NPS if survey.scale == Scale.NPS else ASK_CSAT, language)
    body = template_render(
        text, patient_values(patient=patient, location=survey.location), kind=TemplateKind.ANNOUNCEMENT
    )
    return f"{body} {link}".strip()


def _skip(pk: int, reason: str) -> None:
    SurveyRequest.objects.filter(pk=pk, state=SurveyState.PLANNED).update(
        state=SurveyState.SKIPPED, skip_reason=reason
    )


def survey_asked_recently(patient_id: int, *, now: datetime, exclude: int | None = None) -> bool:
    """Whether the patient was sent a survey within SURVEY_INTERVAL of NOW."""
    recent = SurveyRequest.objects.filter(patient_id=patient_id, sent_at__gt=now - SURVEY_INTERVAL)
    if exclude is not None:
        recent = recent.exclude(pk=exclude)
    return recent.exists()


def survey_send(pk: int, *, now: datetime) -> bool:
    """Send the planned survey PK if it may go now; False when it was skipped (with the reason kept)."""
    from careline.messaging.models import MessageKind, MessageState
    from careline.messaging.outbound.compose import MessageRefused, message_send
    from careline.messaging.services.prompts import prompt_record

    with transaction.atomic():
        survey = (
            SurveyRequest.objects.select_related("location").filter(pk=pk, state=SurveyState.PLANNED).first()
        )
        if survey is None:
            return False
        # The patient's row is the lock that keeps two surveys of one patient from going together.
        patient = (
            Patient.objects.select_for_update().select_related("primary_location").get(pk=survey.patient_id)
        )
        config = survey_settings_for(survey.location_id)
        if config is None or not config.enabled:
            _skip(pk, "surveys turned off at the location")
            return False
        if patient.is_deceased or patient.confidential_communications:
            _skip(pk, "deceased" if patient.is_deceased else "confidential communications")
            return False
        if survey_asked_recently(patient.pk, now=now, exclude=pk):
            _skip(pk, "asked in the last 30 days")
            return False
        channel = survey_channel(patient)
        if channel is None:
            _skip(pk, "no channel configured")
            return False
        by_email = "email" in channel.type.capabilities
        if not SurveyRequest.objects.filter(pk=pk, state=SurveyState.PLANNED).update(
            state=SurveyState.SENT, sent_at=now, channel="email" if by_email else "sms"
        ):
            return False
        extra: dict[str, Any] = {}
        link = ""
        if by_email:
            from careline.surveys.links import answer_link

            extra["subject"] = say(ASK_SUBJECT, patient.language)
            link = answer_link(pk)
        try:
            message = message_send(
                body=survey_question(survey, patient, link=link),
                patient=patient,
                channel=channel,
                kind=MessageKind.AUTOMATED,
                purpose=Purpose.GENERAL,
                idempotency_key=f"survey:{pk}:ask",
                subject_key=survey_subject(pk),
                **extra,
            )
        except MessageRefused as error:
            SurveyRequest.objects.filter(pk=pk).update(
                state=SurveyState.SKIPPED, sent_at=None, skip_reason=str(error)[:60]
            )
            return False
        if message.state in (MessageState.SUPPRESSED, MessageState.CANCELLED, MessageState.FAILED):
            reason = message.suppression_reason or message.state
            SurveyRequest.objects.filter(pk=pk).update(
                state=SurveyState.SKIPPED, sent_at=None, skip_reason=f"not sent: {reason}"[:60]
            )
            return False
        SurveyRequest.objects.filter(pk=pk).update(message=message, conversation=message.conversation)
        if not by_email:
            bottom, top = SCALE_RANGE[survey.scale]
            prompt_record(
                owner=OWNER,
                kind="score",
                phone_number=message.to_address,
                conversation=message.conversation,
                message=message,
                subject_key=survey_subject(pk),
                options=[str(n) for n in range(bottom, top + 1)],
                expires_at=now + SCORE_LIFETIME,
            )
    return True


def surveys_send_due(*, now: datetime | None = None, limit: int = SWEEP_BATCH) -> int:
    """Send the planned surveys that are due; how many went."""
    now = now or timezone.now()
    due = list(
        SurveyRequest.objects.filter(state=SurveyState.PLANNED, due_at__lte=now)
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(survey_send(pk, now=now) for pk in due)


def surveys_expire(*, now: datetime | None = None) -> int:
    """Unanswered surveys end after SCORE_LIFETIME; a score without its comment is kept after COMMENT_LIFETIME."""
    from careline.messaging.models import Prompt, PromptState

    now = now or timezone.now()
    expired = SurveyRequest.objects.filter(state=SurveyState.SENT, sent_at__lte=now - SCORE_LIFETIME).update(
        state=SurveyState.EXPIRED
    )
    done = SurveyRequest.objects.filter(
        state=SurveyState.COMMENTING, answered_at__lte=now - COMMENT_LIFETIME
    ).update(state=SurveyState.ANSWERED)
    Prompt.objects.filter(owner=OWNER, state=PromptState.OPEN, expires_at__lte=now).update(
        state=PromptState.EXPIRED
    )
    return expired + done


def surveys_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """The beat's survey sweep: send what is due, then end what nobody answered."""
    now = now or timezone.now()
    return {"sent": surveys_send_due(now=now), "ended": surveys_expire(now=now)}


def public_base_url() -> str:
    return str(getattr(settings, "PUBLIC_BASE_URL", "")).rstrip("/")
