"""Saving a location's survey settings (administrators; audited)."""

from __future__ import annotations

from django.db import transaction

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.surveys.models import SurveySettings


def survey_settings_save(
    *, settings_row: SurveySettings, actor: Actor, changed: list[str] | None = None
) -> SurveySettings:
    """Save SETTINGS_ROW (already validated by its form) and record who changed what."""
    created = settings_row.pk is None
    settings_row.full_clean()
    with transaction.atomic():
        settings_row.save()
        audit_record(
            actor=actor,
            action=AuditAction.CREATE if created else AuditAction.UPDATE,
            obj=settings_row,
            detail=f"survey settings of location {settings_row.location_id}: {', '.join(changed or []) or 'saved'}",
        )
    return settings_row
