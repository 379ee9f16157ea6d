"""Statements on the patient timeline: issued, sent, viewed, link sent again, voided (billing staff only)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from careline.billing.models import StatementEvent
from careline.core.permissions import Perm, has_perm
from careline.patients.models import Patient
from careline.patients.timeline import SOURCE_LIMIT, TimelineEntry


def statement_timeline_entries(patient: Patient, user: Any) -> list[TimelineEntry]:
    """The newest events of PATIENT's statements, for those who see the billing ledger (one query)."""
    if not has_perm(user, Perm.BILLING_VIEW):
        return []
    events = (
        StatementEvent.objects.filter(statement__patient=patient)
        .select_related("statement")
        .order_by("-at", "-id")[:SOURCE_LIMIT]
    )
    return [
        TimelineEntry(
            at=event.at,
            kind="statement",
            title=f"Statement {event.statement.number}: {event.get_kind_display().lower()}",
            body=event.detail,
            url=reverse("billing:statement", args=[event.statement_id]),
        )
        for event in events
    ]
