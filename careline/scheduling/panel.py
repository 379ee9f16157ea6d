"""Scheduling's section of the inbox's patient panel: the patient's next and last visits with the actions
staff take from a conversation (confirm, move, cancel), registered with messaging in SchedulingConfig.ready."""

from __future__ import annotations

from typing import Any

from careline.core.permissions import Perm, has_perm
from careline.messaging.panel import PanelContext, panel_section_register
from careline.scheduling.models import AppointmentStatus
from careline.scheduling.queries.appointments import patient_next_and_last_visit

VISITS_TEMPLATE = "scheduling/_panel_visits.html"


def visits_panel_context(panel: PanelContext) -> dict[str, Any] | None:
    """The next and last visits of the panel's patient; hidden from people who may not see the schedule."""
    if not has_perm(panel.user, Perm.SCHEDULE_VIEW):
        return None
    next_visit, last_visit = patient_next_and_last_visit(panel.user, panel.patient)
    may_book = has_perm(panel.user, Perm.SCHEDULE_BOOK)
    movable = next_visit is not None and next_visit.status in (
        AppointmentStatus.BOOKED,
        AppointmentStatus.CONFIRMED,
    )
    return {
        "next": next_visit,
        "last": last_visit,
        "may_confirm": may_book and next_visit is not None and next_visit.status == AppointmentStatus.BOOKED,
        "may_move": may_book and movable,
        "may_cancel": may_book and movable,
    }


def visits_panel_register() -> None:
    """Add the visits section to the inbox's patient panel (called from SchedulingConfig.ready)."""
    panel_section_register(
        code="visits", title="Visits", template=VISITS_TEMPLATE, context=visits_panel_context, order=10
    )
