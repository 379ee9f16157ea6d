"""Template helpers for scheduling pages: free-slot booking links and a patient's upcoming visits."""

from __future__ import annotations

from typing import Any

from django import template

from careline.core.permissions import Perm, has_perm

register = template.Library()


@register.simple_tag
def slot_url(slot: Any, patient_id: int | None = None) -> str:
    """The booking form prefilled with SLOT (and the patient, when chosen)."""
    from careline.scheduling.views.appointments import slot_link

    return slot_link(slot, patient_id)


@register.simple_tag(takes_context=True)
def upcoming_appointments(context: template.Context, patient: Any) -> list[Any]:
    """PATIENT's next visits the signed-in person may see (none without SCHEDULE_VIEW)."""
    from careline.scheduling.queries.appointments import patient_upcoming_appointments

    user = context.get("user")
    if user is None or not has_perm(user, Perm.SCHEDULE_VIEW):
        return []
    return patient_upcoming_appointments(user, patient)
