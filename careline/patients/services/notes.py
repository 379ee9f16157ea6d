"""Care notes (append-only: changes are amendments) and pinned alerts."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

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


def note_add(*, patient: Patient, kind: str, text: str, author: Any) -> CareNote:
    """Add a note about PATIENT, filed under the patient's primary location."""
    if kind not in NoteKind.values:
        raise ValidationError({"kind": "Choose a kind of note."})
    return CareNote.objects.create(
        patient=patient,
        kind=kind,
        text=_clean_text(text),
        author=author,
        location_id=patient.primary_location_id,
        created_at=timezone.now(),
    )


def note_amend(*, note: CareNote, text: str, reason: str, author: Any) -> NoteAmendment:
    """Record a new version of NOTE's text; the original and earlier versions stay as they were."""
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
        return NoteAmendment.objects.create(
            note=locked, text=cleaned, reason=reason, author=author, created_at=timezone.now()
        )


def alert_add(*, patient: Patient, kind: str, text: str, author: Any) -> PatientAlert:
    """Pin an alert on PATIENT's pages."""
    if kind not in AlertKind.values:
        raise ValidationError({"kind": "Choose a kind of alert."})
    return PatientAlert.objects.create(
        patient=patient,
        kind=kind,
        text=_clean_text(text, max_chars=200),
        created_by=author,
        created_at=timezone.now(),
    )


def alert_remove(*, alert: PatientAlert, author: Any) -> PatientAlert:
    """Unpin ALERT: it is kept, marked with who removed it and when."""
    updated = PatientAlert.objects.filter(pk=alert.pk, removed_at__isnull=True).update(
        removed_by=author, removed_at=timezone.now()
    )
    if not updated:
        raise ValidationError("This alert was already removed.")
    alert.refresh_from_db()
    return alert
