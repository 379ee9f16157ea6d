"""What staff may do with a visit at a given moment: the one rule behind the buttons and the services' refusals.

A visit's page shows exactly the actions `visit_actions` allows, and the services (`appointment_set_status`,
`appointment_move`, `appointment_cancel`) refuse anything else with `visit_action_problem`'s sentence, so a
forged request cannot do what the page would not offer.

- Confirm, move and cancel: only before the visit starts (booked or confirmed).
- Check in: on the visit's day, from CARELINE_CHECK_IN_OPENS_MINUTES before it starts until it ends (also a
  no-show marked by mistake: the patient came after all).
- Complete and no-show: only once the visit has started (a no-show marked by mistake may still be completed).

Imports and system corrections record what already happened elsewhere and are not held to the clock.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from enum import StrEnum

from django.conf import settings

from careline.scheduling.models import Appointment, AppointmentStatus
from careline.scheduling.queries.appointments import staff_day


class VisitAction(StrEnum):
    CONFIRM = "confirm"
    CHECK_IN = "check_in"
    COMPLETE = "complete"
    NO_SHOW = "no_show"
    MOVE = "move"
    CANCEL = "cancel"


# In the order a page shows them.
ACTION_LABELS: dict[VisitAction, str] = {
    VisitAction.CHECK_IN: "Check in",
    VisitAction.COMPLETE: "Complete",
    VisitAction.NO_SHOW: "No-show",
    VisitAction.CONFIRM: "Confirm",
    VisitAction.MOVE: "Move",
    VisitAction.CANCEL: "Cancel visit",
}
_VERBS: dict[VisitAction, str] = {
    VisitAction.CONFIRM: "confirmed",
    VisitAction.CHECK_IN: "checked in",
    VisitAction.COMPLETE: "completed",
    VisitAction.NO_SHOW: "marked a no-show",
    VisitAction.MOVE: "moved",
    VisitAction.CANCEL: "cancelled",
}
# The status a status action sets (move and cancel have their own services).
ACTION_STATUS: dict[VisitAction, str] = {
    VisitAction.CONFIRM: AppointmentStatus.CONFIRMED,
    VisitAction.CHECK_IN: AppointmentStatus.CHECKED_IN,
    VisitAction.COMPLETE: AppointmentStatus.COMPLETED,
    VisitAction.NO_SHOW: AppointmentStatus.NO_SHOW,
}
STATUS_ACTION: dict[str, VisitAction] = {status: action for action, status in ACTION_STATUS.items()}

_UPCOMING = frozenset({AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED})
# The statuses each action may start from.
FROM_STATUSES: dict[VisitAction, frozenset[str]] = {
    VisitAction.CONFIRM: frozenset({AppointmentStatus.BOOKED}),
    VisitAction.CHECK_IN: _UPCOMING | {AppointmentStatus.NO_SHOW},
    VisitAction.COMPLETE: _UPCOMING | {AppointmentStatus.CHECKED_IN, AppointmentStatus.NO_SHOW},
    VisitAction.NO_SHOW: _UPCOMING,
    VisitAction.MOVE: _UPCOMING,
    VisitAction.CANCEL: _UPCOMING,
}
_BEFORE_START = frozenset({VisitAction.CONFIRM, VisitAction.MOVE, VisitAction.CANCEL})
_AFTER_START = frozenset({VisitAction.COMPLETE, VisitAction.NO_SHOW})


def check_in_opens_at(appointment: Appointment) -> datetime:
    """When check-in opens: CARELINE_CHECK_IN_OPENS_MINUTES before the start, but not before its local day."""
    zone = appointment.location.zone
    start_of_day = datetime.combine(appointment.starts_at.astimezone(zone).date(), time(0), tzinfo=zone)
    early = appointment.starts_at - timedelta(minutes=settings.CARELINE_CHECK_IN_OPENS_MINUTES)
    return max(early, start_of_day)


def visit_action_problem(appointment: Appointment, action: str, now: datetime) -> str:
    """Why ACTION cannot be done to APPOINTMENT at NOW, as a sentence for staff; '' when it can."""
    try:
        action = VisitAction(action)
    except ValueError:
        return "Choose an action."
    verb = _VERBS[action]
    if appointment.status not in FROM_STATUSES[action]:
        return f"A visit that is {appointment.get_status_display().lower()} cannot be {verb}."
    if action in _BEFORE_START and now >= appointment.starts_at:
        return f"The visit has already started, so it can no longer be {verb}."
    if action in _AFTER_START and now < appointment.starts_at:
        return f"The visit has not started yet, so it cannot be {verb}."
    if action == VisitAction.CHECK_IN:
        opens = check_in_opens_at(appointment)
        if now < opens:
            local = opens.astimezone(appointment.location.zone)
            return f"Check-in opens at {local:%H:%M} on {staff_day(local)}."
        if now >= appointment.ends_at:
            return "The visit has ended, so check-in is closed."
    return ""


def visit_actions(appointment: Appointment, now: datetime) -> list[VisitAction]:
    """The actions APPOINTMENT allows at NOW, in the order a page shows them."""
    return [action for action in ACTION_LABELS if not visit_action_problem(appointment, action, now)]
