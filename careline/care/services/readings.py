"""Readings: recorded from a text reply, the portal or staff; judged against thresholds and trends; answered.

A text reply is parsed (careline/care/parsing.py); an implausible value is asked again and an unreadable one
answered with an example, nothing stored. Each stored reading is confirmed ("Thanks, we recorded 150/95 on
Tue 9:05."), once a day with the line that texts are not watched around the clock. A critical reading is
answered at once with what to do, `urgent` so quiet hours never hold it, and opens a critical alert.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from careline.care.events import ReadingRecorded
from careline.care.measures import MEASURE_FACTS, Measure, plain_number
from careline.care.models import (
    SEVERITY_RANK,
    AlertKind,
    AlertState,
    CareAlert,
    CheckIn,
    CheckInState,
    Enrolment,
    EnrolmentState,
    Reading,
    ReadingSource,
    Severity,
)
from careline.care.oncall_paging import on_call_told_of_alert
from careline.care.parsing import Outcome, ParsedReading, reading_parse
from careline.care.services.alerts import alert_open
from careline.care.services.enrolment import thresholds_for
from careline.care.texts import (
    CONFIRMED,
    CRITICAL_ANSWER,
    CRITICAL_ANSWER_ON_CALL,
    IMPLAUSIBLE,
    MEASURE_EXAMPLE,
    NO,
    SAFETY_LINE,
    UNREADABLE,
    YES,
    care_text,
    measures_asked,
    when_text,
)
from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.core.events import publish
from careline.core.languages import say, text_language
from careline.patients.models import Patient, Purpose

if TYPE_CHECKING:
    from careline.messaging.models import Conversation, Message, Prompt

logger = logging.getLogger(__name__)

TREND_WARNINGS = 3  # warnings of one measure within TREND_DAYS open a trend alert
TREND_DAYS = 7


def reading_record(
    *,
    patient: Patient,
    parsed: ParsedReading,
    source: str,
    actor: Actor,
    taken_at: datetime | None = None,
    original_text: str = "",
    enrolment: Enrolment | None = None,
    checkin: CheckIn | None = None,
    message_id: int | None = None,
) -> Reading:
    """Store PARSED for PATIENT (audited), judge it and open the alerts it calls for; inside a transaction."""
    now = timezone.now()
    facts = MEASURE_FACTS[parsed.measure]
    enrolment = enrolment or _active_enrolment_measuring(patient, parsed.measure)
    severity = Severity.NORMAL
    thresholds = thresholds_for(enrolment).get(parsed.measure) if enrolment else None
    if thresholds is not None:
        severity = thresholds.severity_of(parsed.value, parsed.value2)
    reading = Reading.objects.create(
        patient=patient,
        enrolment=enrolment,
        checkin=checkin,
        measure=parsed.measure,
        value=parsed.value,
        value2=parsed.value2,
        pulse=parsed.pulse,
        unit=facts.unit,
        loinc_code=facts.loinc,
        loinc_code2=facts.loinc2,
        original_value=parsed.original_value[:20],
        original_unit=parsed.original_unit[:12],
        original_text=original_text[:300],
        source=source,
        severity=severity,
        taken_at=taken_at or now,
        recorded_at=now,
        recorded_by=actor.user,
        message_id=message_id,
    )
    # The audit trail names the reading, never its value.
    audit_record(
        action=AuditAction.CREATE, actor=actor, obj=reading, patient_id=patient.pk,
        detail=f"care reading recorded ({parsed.measure}, {source})",
    )  # fmt: skip
    if enrolment is not None:
        _judge(reading, enrolment, now=now)
    publish(
        ReadingRecorded(
            reading_id=reading.pk, patient_id=patient.pk, measure=reading.measure, severity=severity
        )
    )
    return reading


def _active_enrolment_measuring(patient: Patient, measure: str) -> Enrolment | None:
    return (
        Enrolment.objects.filter(
            patient=patient, state=EnrolmentState.ACTIVE, program__measures__measure=measure
        )
        .select_related("program")
        .order_by("-created_at")
        .first()
    )


def _judge(reading: Reading, enrolment: Enrolment, *, now: datetime) -> None:
    """Open the alerts READING calls for: its own severity, repeated warnings, a heart-failure weight gain."""
    label = dict(Measure.choices)[reading.measure]
    if reading.severity != Severity.NORMAL:
        alert_open(
            enrolment=enrolment,
            kind=AlertKind.THRESHOLD,
            severity=reading.severity,
            summary=f"{label} {reading.shown}: {reading.get_severity_display().lower()}",
            reading=reading,
            now=now,
        )
    if SEVERITY_RANK[reading.severity] >= 1:  # type: ignore[index]
        warnings = Reading.objects.filter(
            patient_id=reading.patient_id,
            measure=reading.measure,
            severity__in=[Severity.WARNING, Severity.CRITICAL],
            taken_at__gte=reading.taken_at - timedelta(days=TREND_DAYS),
            taken_at__lte=reading.taken_at,
        ).count()
        if warnings >= TREND_WARNINGS:
            alert_open(
                enrolment=enrolment,
                kind=AlertKind.TREND,
                severity=Severity.WARNING,
                summary=f"{label}: {warnings} readings out of range in {TREND_DAYS} days",
                reading=reading,
                now=now,
            )
    gain = enrolment.program.weight_gain_kg
    if reading.measure == Measure.WEIGHT and gain is not None:
        window = reading.taken_at - timedelta(days=enrolment.program.weight_gain_days)
        lightest = (
            Reading.objects.filter(
                patient_id=reading.patient_id,
                measure=Measure.WEIGHT,
                taken_at__gte=window,
                taken_at__lt=reading.taken_at,
            )
            .order_by("value")
            .values_list("value", flat=True)
            .first()
        )
        if lightest is not None and reading.value - lightest >= gain:
            alert_open(
                enrolment=enrolment,
                kind=AlertKind.WEIGHT_GAIN,
                severity=Severity.WARNING,
                summary=(
                    f"Weight up {plain_number(reading.value - lightest)} kg in "
                    f"{enrolment.program.weight_gain_days} days"
                ),
                reading=reading,
                now=now,
            )


# --- text replies ---------------------------------------------------------------------------------------


def care_prompt_reply_handle(conversation: Conversation, message: Message, prompt: Prompt) -> bool:
    """A reply to a check-in (the router's choice): record what it reports and answer the patient."""
    from careline.care.services.checkins import checkin_subject

    prefix, _, raw = prompt.subject_key.partition(":")
    if not raw.isdigit() or f"{prefix}:{raw}" != checkin_subject(int(raw)):
        return False
    checkin = (
        CheckIn.objects.select_related("enrolment__patient__primary_location", "enrolment__program")
        .filter(pk=int(raw))
        .first()
    )
    if checkin is None or checkin.enrolment.state != EnrolmentState.ACTIVE:
        return False
    enrolment = checkin.enrolment
    if conversation.patient_id not in (None, enrolment.patient_id):
        return False
    expected = [str(m) for m in (prompt.options or [])]
    return reply_handle(
        enrolment=enrolment, checkin=checkin, message=message, conversation=conversation, expected=expected
    )


def care_free_text_handle(conversation: Conversation, message: Message) -> bool:
    """A reading texted without an open check-in (a later reply, an extra reading): only when it reads as one."""
    if conversation.patient_id is None:
        return False
    enrolment = (
        Enrolment.objects.filter(patient_id=conversation.patient_id, state=EnrolmentState.ACTIVE)
        .select_related("patient__primary_location", "program")
        .order_by("-created_at")
        .first()
    )
    if enrolment is None:
        return False
    expected = [m.measure for m in enrolment.program.measures.all()]
    if reading_parse(message.body or "", expected=()).outcome != Outcome.READ:
        return False  # not clearly a reading: the inbox keeps it
    return reply_handle(
        enrolment=enrolment, checkin=None, message=message, conversation=conversation, expected=expected
    )


def reply_handle(
    *,
    enrolment: Enrolment,
    checkin: CheckIn | None,
    message: Message,
    conversation: Conversation,
    expected: list[str],
) -> bool:
    """Parse MESSAGE, store its readings (one row each, however many replies race), answer the patient."""
    patient = enrolment.patient
    language = text_language(patient.language)
    result = reading_parse(message.body or "", expected=expected)
    if result.outcome == Outcome.UNREADABLE:
        names, example = measures_asked(expected, language)
        _answer(
            conversation,
            message,
            patient,
            care_text(UNREADABLE, language, {}, measures=names, example=example),
        )
        return True
    if result.outcome == Outcome.IMPLAUSIBLE:
        example = say(MEASURE_EXAMPLE[Measure(result.implausible[0])], language)
        _answer(conversation, message, patient, care_text(IMPLAUSIBLE, language, {}, example=example))
        return True
    actor = Actor.patient(patient.pk)
    now = timezone.now()
    with transaction.atomic():
        # One patient's readings are judged one after another, so two racing replies open one alert.
        Enrolment.objects.select_for_update().filter(pk=enrolment.pk).exists()
        readings = [
            reading_record(
                patient=patient,
                parsed=parsed,
                source=ReadingSource.TEXT,
                actor=actor,
                taken_at=now,
                original_text=message.body or "",
                enrolment=enrolment,
                checkin=checkin,
                message_id=message.pk,
            )
            for parsed in result.readings
        ]
        if checkin is not None:
            CheckIn.objects.filter(pk=checkin.pk, state__in=[CheckInState.SENT, CheckInState.MISSED]).update(
                state=CheckInState.ANSWERED, answered_at=now
            )
    critical = any(r.severity == Severity.CRITICAL for r in readings)
    if critical:
        critical_answer(patient=patient, conversation=conversation, message=message)
    _confirm(conversation, message, enrolment, readings, now=now)
    return True


def reading_words(reading: Reading, language: str) -> str:
    """READING as a confirmation says it ("150/95", "82.5 kg", "yes" in LANGUAGE)."""
    if reading.measure == Measure.SYMPTOM:
        return say(YES if reading.value else NO, language)
    return reading.shown


def _confirm(
    conversation: Conversation,
    message: Message,
    enrolment: Enrolment,
    readings: list[Reading],
    *,
    now: datetime,
) -> None:
    patient = enrolment.patient
    language = text_language(patient.language)
    local = now.astimezone(patient.zone)
    body = care_text(
        CONFIRMED,
        language,
        {},
        readings=", ".join(reading_words(r, language) for r in readings),
        when=when_text(local, language),
    )
    # Once a day per enrolment, a claim on the day so two racing replies add the line once.
    if (
        Enrolment.objects.filter(pk=enrolment.pk)
        .exclude(safety_line_on=local.date())
        .update(safety_line_on=local.date())
    ):
        body = f"{body} {say(SAFETY_LINE, language)}"
    _answer(conversation, message, patient, body)


def _answer(
    conversation: Conversation,
    message: Message,
    patient: Patient,
    body: str,
    *,
    urgent: bool = False,
    key: str = "",
) -> Any:
    from careline.messaging.models import MessageKind
    from careline.messaging.outbound.compose import MessageRefused, message_send

    try:
        return message_send(
            body=body,
            patient=patient,
            to_address=conversation.contact,
            channel=conversation.channel,
            # A direct answer to the patient's own text, in the conversation they just wrote in.
            kind=MessageKind.STAFF,
            purpose=Purpose.CARE,
            urgent=urgent,
            idempotency_key=key or f"care-reply:{message.pk}",
        )
    except MessageRefused:
        logger.info("care answer to message %s refused", message.pk)
        return None


def critical_advice(*, patient: Patient, told: bool, language: str | None = None) -> str:
    """What to do now after a critical reading (call the clinic now, or 911 for named symptoms), saying that
    the clinician on call has been told only when TOLD; never the value. LANGUAGE: the patient's by default."""
    from careline.messaging.template_values import patient_values

    language = text_language(language or patient.language)
    text = CRITICAL_ANSWER_ON_CALL if told else CRITICAL_ANSWER
    return care_text(text, language, patient_values(patient=patient, location=None))


def on_call_told_of_critical(patient: Patient) -> bool:
    """Whether the clinician on call was paged about PATIENT's open critical reading alert (just now)."""
    alert_id = (
        CareAlert.objects.filter(
            patient=patient,
            kind=AlertKind.THRESHOLD,
            severity=Severity.CRITICAL,
            state__in=[AlertState.OPEN, AlertState.ACKNOWLEDGED],
        )
        .order_by("-opened_at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    return alert_id is not None and on_call_told_of_alert(alert_id)


def critical_answer(*, patient: Patient, conversation: Conversation, message: Message) -> Any:
    """Tell the patient at once what to do (call the clinic now, or 911 for named symptoms): `urgent`, so
    quiet hours never hold it, at 03:00 as at noon; it says the clinician on call was told when one was."""
    body = critical_advice(patient=patient, told=on_call_told_of_critical(patient))
    return _answer(conversation, message, patient, body, urgent=True, key=f"care-critical:{message.pk}")


def reading_add_by_staff(
    *,
    patient: Patient,
    measure: str,
    value: Decimal,
    value2: Decimal | None,
    taken_at: datetime,
    actor: Actor,
) -> Reading:
    """A reading staff took by phone (source STAFF): judged like any other; the patient is not texted."""
    from django.core.exceptions import ValidationError

    facts = MEASURE_FACTS[measure]
    if not facts.low <= value <= facts.high:
        raise ValidationError({"value": [f"A {measure.replace('_', ' ')} of {value} is not plausible."]})
    if measure == Measure.BLOOD_PRESSURE:
        if (
            value2 is None
            or facts.low2 is None
            or facts.high2 is None
            or not facts.low2 <= value2 <= facts.high2
        ):
            raise ValidationError({"value2": ["Enter a plausible diastolic pressure."]})
        if value2 >= value:
            raise ValidationError({"value2": ["The diastolic pressure must be below the systolic."]})
    else:
        value2 = None
    parsed = ParsedReading(
        measure=measure,
        value=value,
        value2=value2,
        original_value=plain_number(value),
        original_unit=facts.unit,
    )
    with transaction.atomic():
        return reading_record(
            patient=patient, parsed=parsed, source=ReadingSource.STAFF, actor=actor, taken_at=taken_at
        )
