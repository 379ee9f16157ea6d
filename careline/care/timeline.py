"""The calls nurses logged on care alerts, on the patient's timeline (for those who see care, CARE_VIEW)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from careline.care.models import CareAlertCall
from careline.core.permissions import Perm, has_perm
from careline.patients.models import Patient
from careline.patients.timeline import SOURCE_LIMIT, TimelineEntry, register_timeline_source


@register_timeline_source
def care_call_entries(patient: Patient, user: Any) -> list[TimelineEntry]:
    """Each call with how it went and who called; no reading or note (one query)."""
    if not has_perm(user, Perm.CARE_VIEW):
        return []
    calls = (
        CareAlertCall.objects.filter(patient=patient)
        .select_related("caller", "alert")
        .order_by("-called_at", "-id")[:SOURCE_LIMIT]
    )
    return [
        TimelineEntry(
            at=call.called_at,
            kind="care-call",
            title=f"Care call: {call.get_outcome_display().lower()}",
            body=f"By {call.caller}, about a care alert ({call.alert.get_kind_display().lower()})",
            url=reverse("care:alert", args=[call.alert_id]),
        )
        for call in calls
    ]
