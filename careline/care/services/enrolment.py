"""Enrolment in a care program: check-ins planned ahead in the patient's zone, the notice, and the end."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from careline.care.models import (
    CareProgram,
    CheckIn,
    CheckInState,
    Enrolment,
    EnrolmentState,
    EnrolmentThreshold,
    ProgramMeasure,
    Thresholds,
)
from careline.care.texts import ENROLLED, INSTRUCTIONS_LINK, care_text
from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.core.languages import say, text_language
from careline.patients.models import Patient, Purpose

logger = logging.getLogger(__name__)

PLAN_AHEAD_DAYS = 7  # check-in rows exist this far ahead; the sweep tops them up daily


def checkin_moments(enrolment: Enrolment, *, since: datetime, until: datetime) -> list[datetime]:
    """The check-in times of ENROLMENT between SINCE and UNTIL: its local time on each day it is due, in UTC."""
    zone = enrolment.patient.zone
    every = max(1, enrolment.program.every_days)
    moments = []
    day = max(enrolment.starts_on, since.astimezone(zone).date())
    while day <= enrolment.ends_on:
        if (day - enrolment.starts_on).days % every == 0:
            local = datetime.combine(day, enrolment.checkin_time, tzinfo=zone)
            moment = local.astimezone(UTC)
            if since <= moment < until:
                moments.append(moment)
            elif moment >= until:
                break
        day += timedelta(days=1)
    return moments


def checkins_plan(enrolment: Enrolment, *, now: datetime | None = None) -> int:
    """Create ENROLMENT's planned check-ins up to PLAN_AHEAD_DAYS ahead (existing ones are kept); how many."""
    if enrolment.state != EnrolmentState.ACTIVE:
        return 0
    now = now or timezone.now()
    moments = checkin_moments(enrolment, since=now, until=now + timedelta(days=PLAN_AHEAD_DAYS))
    rows = [CheckIn(enrolment=enrolment, due_at=moment) for moment in moments]
    created = CheckIn.objects.bulk_create(rows, ignore_conflicts=True)
    return len(created)


def thresholds_for(enrolment: Enrolment) -> dict[str, Thresholds]:
    """{measure: thresholds} of ENROLMENT: the patient's own where a clinician set them, else the program's."""
    chosen: dict[str, Thresholds] = {m.measure: m for m in enrolment.program.measures.all()}
    for own in enrolment.thresholds.all():
        chosen[own.measure] = own
    return chosen


def enrolment_create(
    *,
    patient: Patient,
    program: CareProgram,
    channel: str,
    actor: Actor,
    checkin_time: time | None = None,
    starts_on: date | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    follow_up_type: Any = None,
    notify: bool = True,
) -> Enrolment:
    """Enrol PATIENT in PROGRAM (audited): plan the check-ins, keep per-patient thresholds (OVERRIDES,
    {measure: {field: value}}), ask the front desk for a follow-up visit of FOLLOW_UP_TYPE (an appointment
    type) when given, and text the instructions after commit."""
    user = actor.staff_user
    if not program.is_active:
        raise ValidationError({"program": ["This program is not offered any more."]})
    now = timezone.now()
    starts_on = starts_on or now.astimezone(patient.zone).date()
    enrolment = Enrolment(
        patient=patient,
        program=program,
        location_id=patient.primary_location_id,
        channel=channel,
        checkin_time=checkin_time or program.checkin_time,
        starts_on=starts_on,
        ends_on=starts_on + timedelta(days=max(1, program.duration_days) - 1),
        enrolled_by=user,
        created_at=now,
    )
    enrolment.full_clean(exclude=["patient", "program", "location", "enrolled_by"])
    measures = {m.measure for m in ProgramMeasure.objects.filter(program=program)}
    try:
        with transaction.atomic():
            enrolment.save()
            for measure, values in (overrides or {}).items():
                if measure not in measures:
                    raise ValidationError({"overrides": [f"{measure} is not measured by this program."]})
                row = EnrolmentThreshold(enrolment=enrolment, measure=measure, **_threshold_values(values))
                row.full_clean(exclude=["enrolment"])
                row.save()
            checkins_plan(enrolment, now=now)
            if follow_up_type is not None:
                from careline.scheduling.services.visit_requests import visit_request_staff_create

                within = f" within {program.follow_up_days} days" if program.follow_up_days else ""
                follow_up = visit_request_staff_create(
                    patient=patient,
                    appointment_type=follow_up_type,
                    location=patient.primary_location,
                    reason=f"Follow-up for the {program.name} care program{within}",
                    actor=actor,
                )
                enrolment.follow_up_request_id = follow_up.pk
                enrolment.save(update_fields=["follow_up_request_id"])
            audit_record(
                action=AuditAction.CREATE,
                actor=actor,
                obj=enrolment,
                patient_id=patient.pk,
                detail=f"enrolled in care program {program.code} ({channel})",
            )
    except IntegrityError:
        raise ValidationError("The patient is already enrolled in this program.") from None
    if notify and enrolment.texts:
        transaction.on_commit(lambda: enrolment_notify(enrolment.pk), robust=True)
    return enrolment


def _threshold_values(values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in Thresholds.THRESHOLD_FIELDS:
        value = values.get(name)
        if name == "yes_severity":
            out[name] = value or ""
        else:
            out[name] = None if value in (None, "") else Decimal(str(value))
    return out


def enrolment_end(*, enrolment: Enrolment, actor: Actor, now: datetime | None = None) -> bool:
    """End ENROLMENT (unenrolled, or its last day passed): planned check-ins are cancelled; False if ended."""
    now = now or timezone.now()
    with transaction.atomic():
        changed = Enrolment.objects.filter(pk=enrolment.pk, state=EnrolmentState.ACTIVE).update(
            state=EnrolmentState.ENDED, ended_at=now, ended_by=actor.user
        )
        if not changed:
            return False
        CheckIn.objects.filter(enrolment=enrolment, state=CheckInState.PLANNED).update(
            state=CheckInState.CANCELLED
        )
        from careline.care.services.prompts import prompts_close

        prompts_close(enrolment)
        audit_record(
            action=AuditAction.UPDATE,
            actor=actor,
            obj=enrolment,
            patient_id=enrolment.patient_id,
            detail="care program enrolment ended",
        )
    enrolment.refresh_from_db()
    return True


def enrolments_end_finished(*, now: datetime | None = None) -> int:
    """End the enrolments whose last day has passed in the patient's zone (the sweep)."""
    now = now or timezone.now()
    candidates = Enrolment.objects.filter(
        state=EnrolmentState.ACTIVE, ends_on__lt=now.date() + timedelta(days=1)
    ).select_related("patient__primary_location")
    actor = Actor.system("care-program-end")
    count = 0
    for enrolment in candidates:
        if now.astimezone(enrolment.patient.zone).date() > enrolment.ends_on:
            count += enrolment_end(enrolment=enrolment, actor=actor, now=now)
    return count


def enrolment_notify(enrolment_id: int) -> None:
    """Text the patient the program's PHI-free instructions and the portal link (care purpose)."""
    from careline.messaging.models import MessageKind
    from careline.messaging.outbound.compose import MessageRefused, message_send
    from careline.messaging.template_values import patient_values

    enrolment = Enrolment.objects.select_related("patient__primary_location", "program").get(pk=enrolment_id)
    patient, program = enrolment.patient, enrolment.program
    language = text_language(patient.language)
    instructions = (
        program.instructions_es if language == "es" and program.instructions_es else program.instructions_en
    )
    if program.instructions_link:
        instructions = f"{instructions} {say(INSTRUCTIONS_LINK, language, link=settings.PUBLIC_BASE_URL.rstrip('/') + program.instructions_link)}".strip()
    body = care_text(
        ENROLLED,
        language,
        patient_values(patient=patient, location=None),
        days=program.duration_days,
        instructions=instructions,
    )
    try:
        message_send(
            body=body,
            patient=patient,
            kind=MessageKind.AUTOMATED,
            purpose=Purpose.CARE,
            idempotency_key=f"care-enrolled:{enrolment.pk}",
        )
    except MessageRefused:
        logger.warning("Care enrolment notice for patient %s refused", patient.pk)
