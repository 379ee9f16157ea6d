"""The web path of the billing import: an upload is checked at once (the preview), then applied on confirmation.

A practice-management export is small next to a patient registry (a day's or a month's lines), so the check
runs in the request; the file's text waits on the BillingImport row until billing staff confirm, and is
cleared once the import is applied or refused.
"""

from __future__ import annotations

import logging

from django.utils import timezone

from careline.billing.imports_csv import csv_error, csv_parse, csv_records, error_of
from careline.billing.models import BillingImport
from careline.billing.services.imports import ImportRefused, billing_import_apply, billing_import_check
from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record

logger = logging.getLogger(__name__)
MAX_STORED_ERRORS = 1000


def _stored(errors: list[dict[str, object]]) -> list[dict[str, object]]:
    if len(errors) <= MAX_STORED_ERRORS:
        return errors
    more = len(errors) - MAX_STORED_ERRORS
    return [*errors[:MAX_STORED_ERRORS], csv_error(None, "", f"… and {more} more errors.")]


def billing_import_upload(*, name: str, data: bytes, actor: Actor) -> BillingImport:
    """Check the export DATA as ACTOR would import it: a BillingImport waiting for confirmation, or invalid."""
    parsed = csv_records(data)
    # The file's name is shown back: printable characters only (PostgreSQL refuses NUL in text).
    shown = "".join(c for c in (name or "") if c.isprintable()).strip() or "billing.csv"
    row = BillingImport(original_name=shown[:200], created_by=actor.user)
    row.total_rows = parsed.total_rows
    errors = parsed.errors
    if not errors:
        plan = billing_import_check(records=parsed.records, user=actor.user)
        errors = [error_of(problem) for problem in plan.errors]
        row.summary = plan.summary
    if errors:
        row.state = BillingImport.State.INVALID
        row.errors = _stored(errors)
        row.finished_at = timezone.now()
    else:
        row.state = BillingImport.State.CHECKED
        row.data = data.decode("utf-8-sig")
    row.save()
    return row


def billing_import_confirm(*, billing_import: BillingImport, actor: Actor) -> BillingImport:
    """Apply a checked import (all or nothing); a second confirmation (a double click) changes nothing."""
    claimed = BillingImport.objects.filter(pk=billing_import.pk, state=BillingImport.State.CHECKED).update(
        state=BillingImport.State.APPLYING
    )
    if not claimed:
        billing_import.refresh_from_db()
        return billing_import
    billing_import.refresh_from_db()
    rows = BillingImport.objects.filter(pk=billing_import.pk)
    parsed = csv_parse(billing_import.data)
    try:
        if parsed.errors:  # the text was checked on upload; only a changed database can refuse it now
            raise ImportRefused([])
        plan = billing_import_apply(records=parsed.records, actor=actor)
    except ImportRefused as refused:
        errors = [error_of(problem) for problem in refused.errors] or parsed.errors
        rows.update(
            state=BillingImport.State.INVALID, errors=_stored(errors), data="", finished_at=timezone.now()
        )
    except Exception:  # any failure must leave a finished row, and the import rolled back
        logger.exception("billing import %s failed", billing_import.pk)
        rows.update(
            state=BillingImport.State.FAILED,
            errors=[csv_error(None, "", "The import failed unexpectedly. Nothing was imported.")],
            data="",
            finished_at=timezone.now(),
        )
    else:
        rows.update(state=BillingImport.State.DONE, summary=plan.summary, data="", finished_at=timezone.now())
        audit_record(
            action=AuditAction.IMPORT,
            actor=actor,
            obj=billing_import,
            detail=f"billing CSV import #{billing_import.pk}: "
            + ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in plan.summary.items()),
        )
    billing_import.refresh_from_db()
    return billing_import
