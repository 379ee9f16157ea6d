"""Template helpers for scheduling pages: free-slot booking links and a patient's upcoming visits."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from careline.core.permissions import Perm, has_perm
from careline.scheduling.queries.appointments import staff_when

register = template.Library()


def _zone(where: Any) -> ZoneInfo | str:
    """A Location's zone, or WHERE itself (a ZoneInfo or a zone name)."""
    return getattr(where, "zone", where)


@register.filter
def when(moment: datetime | None, where: Any) -> str:
    """MOMENT on the clock of WHERE (a location, a zone or its name): 'Mon 6 Jan 2031, 09:00'."""
    return staff_when(moment, _zone(where)) if moment else ""


@register.filter
def clock(moment: datetime | None, where: Any) -> str:
    """MOMENT's time of day on the clock of WHERE: '09:00'."""
    return staff_when(moment, _zone(where), clock_only=True) if moment else ""


@register.simple_tag
def when_tag(moment: datetime, where: Any, *, clock_only: bool = False) -> SafeString:
    """A <time> element for MOMENT on WHERE's clock, with the exact instant for machines."""
    text = staff_when(moment, _zone(where), clock_only=clock_only)
    return format_html('<time datetime="{}">{}</time>', moment.isoformat(), text)


@register.simple_tag
def slot_url(slot: Any, patient_id: int | None = None) -> str:
    """The booking form prefilled with SLOT (and the patient, when chosen)."""
    from careline.scheduling.views.appointments import slot_link

    return slot_link(slot, patient_id)


@register.simple_tag
def move_slot_url(appointment: Any, slot: Any) -> str:
    """The move form of APPOINTMENT prefilled with SLOT, to confirm there."""
    from careline.scheduling.views.appointments import move_link

    return move_link(appointment, slot)


@register.simple_tag(takes_context=True)
def upcoming_appointments(context: template.Context, patient: Any) -> list[Any]:
    """PATIENT's next visits the signed-in person may see (none without SCHEDULE_VIEW)."""
    from careline.scheduling.queries.appointments import patient_upcoming_appointments

    user = context.get("user")
    if user is None or not has_perm(user, Perm.SCHEDULE_VIEW):
        return []
    return patient_upcoming_appointments(user, patient)
