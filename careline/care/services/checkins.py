"""Check-ins: the sweep texts those due (each with a `Prompt` so the reply comes back to care) or, for the
portal channel, tells the patient the check-in waits in the portal (answered there: `portal_readings.py`);
reminds once after `reminder_after_hours`, marks them missed the next day, and opens a call task after N
missed days.

Every step claims its rows with a conditional update, so a sweep run twice (or two workers) sends once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from careline.care.models import (
    AlertKind,
    CheckIn,
    CheckInState,
    Enrolment,
    EnrolmentState,
    ProgramChannel,
    Severity,
)
from careline.care.services.prompts import OWNER, checkin_subject, prompts_close
from careline.care.texts import (
    CHECKIN,
    CHECKIN_MORNING,
    CHECKIN_QUESTION,
    PORTAL_CHECKIN,
    PORTAL_CHECKIN_REMINDER,
    PORTAL_CHECKIN_SUBJECT,
    REMINDER,
    care_text,
    measures_asked,
)
from careline.core.languages import say, text_language
from careline.patients.models import Purpose

logger = logging.getLogger(__name__)

PROMPT_KIND = "checkin"
PROMPT_LIFETIME = timedelta(hours=20)  # a reply the next morning belongs to the next check-in
SWEEP_BATCH = 500
MISSED_AFTER = timedelta(hours=20)
# Where the portal shows a patient's check-ins (careline/urls.py mounts the portal; care cannot reverse a
# higher app's route: the portal's tests check that this is its `portal:care` page).
PORTAL_CHECKIN_PATH = "/portal/care/"
PLAN_BATCH = 2_000


def _enrolment_measures(enrolment: Enrolment) -> list[str]:
    return [m.measure for m in enrolment.program.measures.all()]


def checkin_body(enrolment: Enrolment, *, local: datetime, reminder: bool = False) -> str:
    """The check-in (or reminder) text for ENROLMENT in the patient's language, no clinical detail."""
    from careline.messaging.template_values import patient_values

    patient = enrolment.patient
    language = text_language(patient.language)
    measures = _enrolment_measures(enrolment)
    names, example = measures_asked(measures, language)
    fields = patient_values(patient=patient, location=None)
    text = REMINDER if reminder else (CHECKIN_MORNING if local.hour < 12 else CHECKIN)
    body = care_text(text, language, fields, measures=names, example=example) if names else ""
    for measure in enrolment.program.measures.all():
        if measure.measure == "symptom":
            question = (
                measure.question_es if language == "es" and measure.question_es else measure.question_en
            )
            if question:
                body = f"{body} {say(CHECKIN_QUESTION, language, question=question)}".strip()
    return body


def checkin_send(checkin: CheckIn, *, now: datetime, reminder: bool = False) -> bool:
    """Text CHECKIN's question (or its reminder) and open a prompt for the reply; False when not sent."""
    from careline.messaging.models import MessageKind, MessageState
    from careline.messaging.outbound.compose import MessageRefused, message_send
    from careline.messaging.services.prompts import prompt_record

    enrolment = checkin.enrolment
    patient = enrolment.patient
    body = checkin_body(enrolment, local=now.astimezone(patient.zone), reminder=reminder)
    if not body:
        return False
    key = f"care-checkin:{checkin.pk}:{'reminder' if reminder else 'ask'}"
    try:
        message = message_send(
            body=body,
            patient=patient,
            kind=MessageKind.AUTOMATED,
            purpose=Purpose.CARE,
            idempotency_key=key,
            subject_key=checkin_subject(checkin.pk),
        )
    except MessageRefused:
        logger.info("care check-in %s refused", checkin.pk)
        return False
    if message.state in (MessageState.SUPPRESSED, MessageState.CANCELLED, MessageState.FAILED):
        return False
    prompts_close(enrolment)
    prompt_record(
        owner=OWNER,
        kind=PROMPT_KIND,
        phone_number=message.to_address,
        conversation=message.conversation,
        message=message,
        subject_key=checkin_subject(checkin.pk),
        options=_enrolment_measures(enrolment),
        expires_at=now + PROMPT_LIFETIME,
    )
    if not reminder:
        CheckIn.objects.filter(pk=checkin.pk).update(message_id=message.pk)
    return True


def checkin_portal_notice(checkin: CheckIn, *, reminder: bool = False) -> bool:
    """Tell the patient a check-in (or, REMINDER, that it is still) waiting in the portal, with its link.

    As the portal's other notices: by the patient's preferred channel for care (email when chosen, else
    text), through `message_send` (consent, opt-outs and quiet hours apply), never a measure or a value.
    """
    from careline.messaging.channels.portal.notices import notice_channel
    from careline.messaging.models import MessageKind, MessageState
    from careline.messaging.outbound.compose import MessageRefused, message_send
    from careline.messaging.template_values import patient_values

    patient = checkin.enrolment.patient
    channel = notice_channel(patient)
    if channel is None:
        logger.warning("No channel to tell patient %s of a portal check-in", patient.pk)
        return False
    language = text_language(patient.language)
    body = care_text(
        PORTAL_CHECKIN_REMINDER if reminder else PORTAL_CHECKIN,
        language,
        patient_values(patient=patient, location=None),
        portal_link=settings.PUBLIC_BASE_URL.rstrip("/") + PORTAL_CHECKIN_PATH,
    )
    subject = say(PORTAL_CHECKIN_SUBJECT, language) if "email" in channel.type.capabilities else ""
    try:
        message = message_send(
            body=body,
            patient=patient,
            channel=channel,
            kind=MessageKind.AUTOMATED,
            purpose=Purpose.CARE,
            idempotency_key=f"care-checkin:{checkin.pk}:portal-{'reminder' if reminder else 'ask'}",
            subject_key=checkin_subject(checkin.pk),
            subject=subject,
        )
    except MessageRefused:
        logger.info("care portal check-in notice %s refused", checkin.pk)
        return False
    return message.state not in (MessageState.SUPPRESSED, MessageState.CANCELLED, MessageState.FAILED)


def _checkin_deliver(checkin: CheckIn, *, now: datetime, reminder: bool = False) -> bool:
    """Text the check-in (text, or text and portal) or tell the patient it waits in the portal (portal; or
    both, when the text could not go). The portal shows every sent check-in of a portal enrolment."""
    channel = checkin.enrolment.channel
    texted = checkin.enrolment.texts and checkin_send(checkin, now=now, reminder=reminder)
    if texted:
        return True
    if channel in (ProgramChannel.PORTAL, ProgramChannel.BOTH):
        return checkin_portal_notice(checkin, reminder=reminder)
    return False


def checkins_send_due(*, now: datetime | None = None, limit: int = SWEEP_BATCH) -> int:
    """Send the planned check-ins that are due (their enrolment still active); how many were sent."""
    now = now or timezone.now()
    due = list(
        CheckIn.objects.filter(state=CheckInState.PLANNED, due_at__lte=now)
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for pk in due:
        with transaction.atomic():
            claimed = CheckIn.objects.filter(
                pk=pk, state=CheckInState.PLANNED, enrolment__state=EnrolmentState.ACTIVE
            ).update(state=CheckInState.SENT, sent_at=now)
            if not claimed:
                CheckIn.objects.filter(pk=pk, state=CheckInState.PLANNED).update(state=CheckInState.CANCELLED)
                continue
            checkin = CheckIn.objects.select_related(
                "enrolment__patient__primary_location", "enrolment__program"
            ).get(pk=pk)
            sent += _checkin_deliver(checkin, now=now)
    return sent


def checkins_remind(*, now: datetime | None = None, limit: int = SWEEP_BATCH) -> int:
    """Remind once, `reminder_after_hours` after a check-in was sent without an answer."""
    now = now or timezone.now()
    candidates = (
        CheckIn.objects.filter(
            state=CheckInState.SENT, reminded_at__isnull=True, sent_at__lte=now - timedelta(hours=1)
        )
        .select_related("enrolment__patient__primary_location", "enrolment__program")
        .order_by("sent_at")[:limit]
    )
    count = 0
    for checkin in candidates:
        assert checkin.sent_at is not None
        if checkin.sent_at + timedelta(hours=checkin.enrolment.program.reminder_after_hours) > now:
            continue
        if CheckIn.objects.filter(pk=checkin.pk, state=CheckInState.SENT, reminded_at__isnull=True).update(
            reminded_at=now
        ):
            count += _checkin_deliver(checkin, now=now, reminder=True)
    return count


def checkins_mark_missed(*, now: datetime | None = None) -> int:
    """Mark unanswered check-ins missed MISSED_AFTER their sending, and open a call task for an enrolment
    whose last `missed_days_for_task` check-ins were all missed; how many were marked."""
    from careline.care.services.alerts import alert_open

    now = now or timezone.now()
    stale = list(
        CheckIn.objects.filter(state=CheckInState.SENT, sent_at__lte=now - MISSED_AFTER).values_list(
            "pk", "enrolment_id"
        )
    )
    marked = 0
    enrolments: set[int] = set()
    for pk, enrolment_id in stale:
        if CheckIn.objects.filter(pk=pk, state=CheckInState.SENT).update(state=CheckInState.MISSED):
            marked += 1
            enrolments.add(enrolment_id)
    for enrolment in Enrolment.objects.filter(pk__in=enrolments, state=EnrolmentState.ACTIVE).select_related(
        "program", "patient"
    ):
        needed = max(1, enrolment.program.missed_days_for_task)
        last = list(
            CheckIn.objects.filter(
                enrolment=enrolment, state__in=[CheckInState.MISSED, CheckInState.ANSWERED]
            )
            .order_by("-due_at")
            .values_list("state", flat=True)[:needed]
        )
        if len(last) == needed and all(state == CheckInState.MISSED for state in last):
            with transaction.atomic():
                alert_open(
                    enrolment=enrolment,
                    kind=AlertKind.MISSED,
                    severity=Severity.WARNING,
                    summary=f"{needed} check-ins in a row without an answer: call the patient",
                    reading=None,
                    now=now,
                )
    return marked


def checkins_plan_ahead(*, now: datetime | None = None) -> int:
    """Top up every active enrolment's planned check-ins (daily is enough; cheap when nothing is missing).

    Set-based: the rows of every enrolment that needs some go in one transaction, in batches (one
    `bulk_create` and one commit per enrolment made a first run over 2,000 enrolments take 105 s on a busy
    PostgreSQL; see README's figures).
    """
    from careline.care.services.enrolment import PLAN_AHEAD_DAYS, checkin_moments, enrolments_end_finished

    now = now or timezone.now()
    enrolments_end_finished(now=now)
    horizon = now + timedelta(days=2)
    until = now + timedelta(days=PLAN_AHEAD_DAYS)
    # Only enrolments whose last planned check-in is near need new rows.
    needing = (
        Enrolment.objects.filter(state=EnrolmentState.ACTIVE)
        .exclude(checkins__due_at__gte=horizon)
        .select_related("patient__primary_location", "program")
    )
    rows = [
        CheckIn(enrolment=enrolment, due_at=moment)
        for enrolment in needing.iterator(chunk_size=PLAN_BATCH)
        for moment in checkin_moments(enrolment, since=now, until=until)
    ]
    with transaction.atomic():
        created = CheckIn.objects.bulk_create(rows, ignore_conflicts=True, batch_size=PLAN_BATCH)
    return len(created)


def care_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Everything care does on a timer, in order (beat runs this every CARELINE_SWEEP_SECONDS)."""
    from careline.care.services.alerts import alerts_escalate

    now = now or timezone.now()
    return {
        "sent": checkins_send_due(now=now),
        "reminded": checkins_remind(now=now),
        "missed": checkins_mark_missed(now=now),
        "escalated": alerts_escalate(now=now),
    }
