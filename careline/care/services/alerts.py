"""Care alerts: opened by readings, trends and missed check-ins; acknowledged, noted, resolved, escalated.

`CareAlertOpened` and `CareAlertEscalated` are published for the on-call line (ids only); the charge nurse
(Perm.CARE_ESCALATION) sees escalated alerts first on the worklist and in the navigation's badge.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from careline.care.events import CareAlertEscalated, CareAlertOpened
from careline.care.models import (
    SEVERITY_RANK,
    AlertOutcome,
    AlertState,
    CallOutcome,
    CareAlert,
    CareAlertCall,
    CareAlertNote,
    Enrolment,
    Reading,
)
from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.core.events import publish

SWEEP_JOB = "care-alert-escalation"


def alert_open(
    *,
    enrolment: Enrolment | None,
    kind: str,
    severity: str,
    summary: str,
    reading: Reading | None,
    now: datetime,
    patient_id: int | None = None,
    location_id: int | None = None,
) -> CareAlert:
    """Open an alert (or raise the severity of the patient's open one of the same kind): one line per
    patient and kind on the worklist, never a pile of duplicates."""
    patient_id = patient_id or (enrolment.patient_id if enrolment else None)
    location_id = location_id or (enrolment.location_id if enrolment else None)
    assert patient_id is not None and location_id is not None
    existing = (
        CareAlert.objects.select_for_update()
        .filter(patient_id=patient_id, kind=kind, state__in=[AlertState.OPEN, AlertState.ACKNOWLEDGED])
        .first()
    )
    if existing is not None:
        if SEVERITY_RANK[severity] > SEVERITY_RANK[existing.severity]:  # type: ignore[index]
            existing.severity = severity
            existing.summary = summary[:200]
            existing.reading = reading or existing.reading
            existing.state = AlertState.OPEN  # a worse reading needs a fresh acknowledgement
            existing.acknowledged_at = None
            existing.save(update_fields=["severity", "summary", "reading", "state", "acknowledged_at"])
            _announce_opened(existing)
        return existing
    alert = CareAlert.objects.create(
        patient_id=patient_id,
        location_id=location_id,
        enrolment=enrolment,
        reading=reading,
        kind=kind,
        severity=severity,
        summary=summary[:200],
        opened_at=now,
    )
    audit_record(
        action=AuditAction.CREATE,
        actor=Actor.system("care-alerts"),
        obj=alert,
        patient_id=patient_id,
        detail=f"care alert opened: {kind}, {severity}",
    )
    _announce_opened(alert)
    return alert


def _announce_opened(alert: CareAlert) -> None:
    publish(
        CareAlertOpened(
            alert_id=alert.pk,
            patient_id=alert.patient_id,
            location_id=alert.location_id,
            severity=alert.severity,
        )
    )


def _claim(alert: CareAlert, *, states: list[str], **fields: object) -> bool:
    return bool(CareAlert.objects.filter(pk=alert.pk, state__in=states).update(**fields))


def alert_acknowledge(*, alert: CareAlert, actor: Actor) -> bool:
    """A nurse has seen ALERT (it stops the escalation clock); False when it was not open."""
    with transaction.atomic():
        done = _claim(
            alert,
            states=[AlertState.OPEN],
            state=AlertState.ACKNOWLEDGED,
            acknowledged_at=timezone.now(),
            acknowledged_by=actor.staff_user,
        )
        if done:
            audit_record(
                action=AuditAction.UPDATE,
                actor=actor,
                obj=alert,
                patient_id=alert.patient_id,
                detail="acknowledged",
            )
    alert.refresh_from_db()
    return done


def alert_note_add(*, alert: CareAlert, text: str, actor: Actor) -> CareAlertNote:
    """Add a nurse's note to ALERT (audited; the note's text stays in the staff app)."""
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": ["Write the note."]})
    if len(text) > 2000:
        raise ValidationError({"text": ["Keep the note under 2,000 characters."]})
    with transaction.atomic():
        note = CareAlertNote.objects.create(
            alert=alert, author=actor.staff_user, text=text, created_at=timezone.now()
        )
        audit_record(
            action=AuditAction.CREATE, actor=actor, obj=note, patient_id=alert.patient_id, detail="note"
        )
    return note


def alert_call_log(*, alert: CareAlert, outcome: str, actor: Actor) -> CareAlertCall:
    """Log a call to ALERT's patient with its OUTCOME (the call task; audited, on the patient's timeline).

    A call is a nurse working the alert, so an open one is acknowledged too (its escalation clock stops).
    """
    if outcome not in CallOutcome.values:
        raise ValidationError({"outcome": ["Choose how the call went."]})
    now = timezone.now()
    user = actor.staff_user
    with transaction.atomic():
        # Locked, so a call logged while someone resolves the alert is refused rather than lost after it.
        if not (
            CareAlert.objects.select_for_update()
            .filter(pk=alert.pk, state__in=[AlertState.OPEN, AlertState.ACKNOWLEDGED])
            .exists()
        ):
            raise ValidationError("This alert is resolved; log calls on an open alert.")
        call = CareAlertCall.objects.create(
            alert=alert, patient_id=alert.patient_id, caller=user, outcome=outcome, called_at=now
        )
        audit_record(
            action=AuditAction.CREATE, actor=actor, obj=call, patient_id=alert.patient_id,
            detail=f"call to the patient logged on care alert {alert.pk}: {outcome}",
        )  # fmt: skip
        _claim(
            alert, states=[AlertState.OPEN], state=AlertState.ACKNOWLEDGED, acknowledged_at=now,
            acknowledged_by=user,
        )  # fmt: skip
    alert.refresh_from_db()
    return call


def alert_resolve(*, alert: CareAlert, outcome: str, actor: Actor) -> bool:
    """Close ALERT with OUTCOME (acknowledging it if nobody had); False when it was already resolved."""
    if outcome not in AlertOutcome.values:
        raise ValidationError({"outcome": ["Choose an outcome."]})
    now = timezone.now()
    user = actor.staff_user
    with transaction.atomic():
        done = _claim(
            alert,
            states=[AlertState.OPEN, AlertState.ACKNOWLEDGED],
            state=AlertState.RESOLVED,
            resolved_at=now,
            resolved_by=user,
            outcome=outcome,
        )
        if done:
            CareAlert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
                acknowledged_at=now, acknowledged_by=user
            )
            audit_record(
                action=AuditAction.UPDATE, actor=actor, obj=alert, patient_id=alert.patient_id,
                detail=f"resolved: {outcome}",
            )  # fmt: skip
    alert.refresh_from_db()
    return done


def alerts_escalate(*, now: datetime | None = None) -> int:
    """Escalate open alerts nobody acknowledged within their program's time (60 minutes without one)."""
    now = now or timezone.now()
    candidates = CareAlert.objects.filter(
        state=AlertState.OPEN, escalated_at__isnull=True, opened_at__lte=now - timedelta(minutes=5)
    ).select_related("enrolment__program")
    count = 0
    for alert in candidates[:500]:
        minutes = alert.enrolment.program.escalate_after_minutes if alert.enrolment else 60
        if alert.opened_at + timedelta(minutes=minutes) > now:
            continue
        with transaction.atomic():
            if not _claim(alert, states=[AlertState.OPEN], escalated_at=now):
                continue
            audit_record(
                action=AuditAction.UPDATE,
                actor=Actor.system(SWEEP_JOB),
                obj=alert,
                patient_id=alert.patient_id,
                detail=f"escalated to the charge nurse after {minutes} minutes unacknowledged",
            )
            publish(
                CareAlertEscalated(
                    alert_id=alert.pk,
                    patient_id=alert.patient_id,
                    location_id=alert.location_id,
                    severity=alert.severity,
                )
            )
            count += 1
    return count
