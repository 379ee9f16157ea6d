"""Care notes (append-only: changes are amendments) and pinned alerts."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.patients.models import AlertKind, CareNote, NoteAmendment, NoteKind, Patient, PatientAlert

NOTE_MAX_CHARS = 10_000


def _clean_text(text: str, *, field: str = "text", max_chars: int = NOTE_MAX_CHARS) -> str:
    """TEXT without surrounding blanks; ValidationError when empty or too long."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise ValidationError({field: "Write something first."})
    if len(cleaned) > max_chars:
        raise ValidationError({field: f"Keep it under {max_chars} characters."})
    return cleaned


def _audit(actor: Actor, action: str, obj: Any, patient_id: int, detail: str) -> None:
    audit_record(actor=actor, action=action, obj=obj, patient_id=patient_id, detail=detail)


def note_add(*, patient: Patient, kind: str, text: str, actor: Actor) -> CareNote:
    """Add a note about PATIENT, filed under the patient's primary location (audited)."""
    author = actor.staff_user
    if kind not in NoteKind.values:
        raise ValidationError({"kind": "Choose a kind of note."})
    cleaned = _clean_text(text)
    with transaction.atomic():
        note = CareNote.objects.create(
            patient=patient,
            kind=kind,
            text=cleaned,
            author=author,
            location_id=patient.primary_location_id,
            created_at=timezone.now(),
        )
        _audit(actor, AuditAction.CREATE, note, patient.pk, f"care note ({note.kind})")
    return note


def note_amend(*, note: CareNote, text: str, reason: str, actor: Actor) -> NoteAmendment:
    """Record a new version of NOTE's text; the original and earlier versions stay as they were (audited)."""
    author = actor.staff_user
    cleaned = _clean_text(text)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the note changes."})
    if len(reason) > 200:
        raise ValidationError({"reason": "Keep the reason under 200 characters."})
    with transaction.atomic():
        # Lock the note so two amendments at once are ordered and each compares with the text it replaces.
        locked = CareNote.objects.select_for_update().get(pk=note.pk)
        latest = locked.amendments.order_by("-created_at", "-id").first()
        current = latest.text if latest is not None else locked.text
        if cleaned == current:
            raise ValidationError({"text": "The text is unchanged."})
        amendment = NoteAmendment.objects.create(
            note=locked, text=cleaned, reason=reason, author=author, created_at=timezone.now()
        )
        _audit(actor, AuditAction.UPDATE, locked, locked.patient_id, "amended care note")
        return amendment


def alert_add(*, patient: Patient, kind: str, text: str, actor: Actor) -> PatientAlert:
    """Pin an alert on PATIENT's pages (audited)."""
    author = actor.staff_user
    if kind not in AlertKind.values:
        raise ValidationError({"kind": "Choose a kind of alert."})
    cleaned = _clean_text(text, max_chars=200)
    with transaction.atomic():
        alert = PatientAlert.objects.create(
            patient=patient, kind=kind, text=cleaned, created_by=author, created_at=timezone.now()
        )
        _audit(actor, AuditAction.CREATE, alert, patient.pk, "pinned alert")
    return alert


def alert_remove(*, alert: PatientAlert, actor: Actor) -> PatientAlert:
    """Unpin ALERT: it is kept, marked with who removed it and when (audited)."""
    author = actor.staff_user
    with transaction.atomic():
        updated = PatientAlert.objects.filter(pk=alert.pk, removed_at__isnull=True).update(
            removed_by=author, removed_at=timezone.now()
        )
        if not updated:
            raise ValidationError("This alert was already removed.")
        _audit(actor, AuditAction.UPDATE, alert, alert.patient_id, "removed pinned alert")
    alert.refresh_from_db()
    return alert
