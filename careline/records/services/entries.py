"""Adding and amending record entries: never edited in place, every version kept as a RecordRevision."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.patients.models import Patient
from careline.records.models import RecordEntry, RecordRevision, VisitSummary

E = TypeVar("E", bound=RecordEntry)

REASON_MAX_CHARS = 200
# Fields the services set themselves, never from VALUES.
_BOOKKEEPING = ("id", "patient", "created_by", "created_at", "version", "updated_at")


def entry_type(entry: RecordEntry | type[RecordEntry]) -> str:
    """The label revisions name an entry's model by ("records.allergy")."""
    return entry._meta.label_lower


def _check_entry(entry: RecordEntry) -> None:
    """Rules across fields, then the model's own validation (ValidationError by field)."""
    if (
        isinstance(entry, VisitSummary)
        and entry.appointment_id is not None
        and (entry.appointment is None or entry.appointment.patient_id != entry.patient_id)
    ):
        raise ValidationError({"appointment": "Choose one of this patient's visits."})
    start, end = getattr(entry, "start_date", None), getattr(entry, "end_date", None)
    if start and end and end < start:
        raise ValidationError({"end_date": "The end date is before the start date."})
    entry.full_clean(exclude=["created_by", "patient"])


def _revision(entry: RecordEntry, *, author: Any, reason: str, now: Any) -> RecordRevision:
    return RecordRevision.objects.create(
        patient_id=entry.patient_id,
        entry_type=entry_type(entry),
        entry_id=entry.pk,
        version=entry.version,
        values=entry.tracked_values(),
        reason=reason,
        author=author,
        created_at=now,
    )


def record_add(*, model: type[E], patient: Patient, values: Mapping[str, Any], actor: Actor) -> E:
    """Enter a new entry of MODEL for PATIENT with VALUES (its fields); version 1 is kept (audited)."""
    author = actor.staff_user
    now = timezone.now()
    entry = model(patient=patient, created_by=author, created_at=now, updated_at=now)
    settable = {field.name for field in model._meta.get_fields()} - set(_BOOKKEEPING)
    for name, value in values.items():
        if name not in settable:
            raise ValueError(f"{model.__name__} has no field {name!r} to set")
        setattr(entry, name, value)
    _check_entry(entry)
    with transaction.atomic():
        entry.save()
        _revision(entry, author=author, reason="", now=now)
        audit_record(
            actor=actor, action=AuditAction.CREATE, obj=entry, patient_id=patient.pk, detail=entry_type(entry)
        )
    return entry


def record_amend(*, entry: E, values: Mapping[str, Any], reason: str, actor: Actor) -> E:
    """Change ENTRY to VALUES for REASON: the earlier versions stay in its history (audited)."""
    author = actor.staff_user
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the entry changes."})
    if len(reason) > REASON_MAX_CHARS:
        raise ValidationError({"reason": f"Keep the reason under {REASON_MAX_CHARS} characters."})
    model = type(entry)
    with transaction.atomic():
        # Locked so two amendments at once are numbered in turn and each compares with what it replaces.
        locked = model._default_manager.select_for_update().get(pk=entry.pk)
        before = locked.tracked_values()
        for name in model.TRACKED:
            if name in values:
                setattr(locked, name, values[name])
        _check_entry(locked)
        if locked.tracked_values() == before:
            raise ValidationError("Nothing changed.")
        now = timezone.now()
        locked.version += 1
        locked.updated_at = now
        locked._amending = True
        locked.save()
        _revision(locked, author=author, reason=reason, now=now)
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=locked,
            patient_id=locked.patient_id,
            detail=f"amended {entry_type(locked)} to version {locked.version}",
        )
    return locked
