"""A patient (or their caregiver) confirms, cancels or moves their own visit: the portal's buttons.

The rules are the text replies' (services/replies.py): the same services (`appointment_set_status`,
`appointment_cancel` by the patient, `appointment_move`), so the same moments are allowed (visit_actions:
booked or confirmed, before the visit starts), a cancellation withdraws the reminders and offers the time to
the waitlist after commit, and a move re-plans the reminders. Moves go only to a free time of the same type at
the same location that `reschedule_slots` offers (any clinician), never within the hour, as by text.
The only difference is the source, `portal`, which the appointment services record and audit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from careline.core.actor import Actor
from careline.core.models import ActorKind
from careline.scheduling.models import Appointment, AppointmentStatus, ChangeSource
from careline.scheduling.queries.patient_visits import patient_status_words, reschedule_slot_offered
from careline.scheduling.services.appointments import (
    appointment_cancel,
    appointment_move,
    appointment_set_status,
)
from careline.scheduling.visit_actions import VisitAction, visit_action_problem

PATIENT_ACTIONS = (VisitAction.CONFIRM, VisitAction.MOVE, VisitAction.CANCEL)

STARTED = _("This visit has already started, so it can no longer be changed here. Please call the clinic.")
ALREADY_CONFIRMED = _("This visit is already confirmed.")
NOT_CHANGEABLE = _("This visit is “%(state)s”, so it cannot be changed here.")
NOT_CHANGED = _("The visit could not be changed. Please try again or call the clinic.")
SLOT_GONE = _("That time is no longer free. Please choose another time.")


def _require_own(appointment: Appointment, actor: Actor) -> None:
    """Only the patient, or a caregiver acting for them, acts on the patient's visit."""
    if (
        actor.kind not in (ActorKind.PATIENT, ActorKind.CAREGIVER)
        or actor.patient_id != appointment.patient_id
    ):
        raise PermissionDenied("Not this patient's visit")


def patient_visit_problem(appointment: Appointment, action: str, now: datetime) -> str:
    """Why the patient cannot do ACTION to APPOINTMENT at NOW, in their language; '' when they can."""
    if action not in PATIENT_ACTIONS:
        return str(NOT_CHANGED)
    if not visit_action_problem(appointment, action, now):
        return ""
    if action == VisitAction.CONFIRM and appointment.status == AppointmentStatus.CONFIRMED:
        return str(ALREADY_CONFIRMED)
    if appointment.is_active and now >= appointment.starts_at:
        return str(STARTED)
    return str(NOT_CHANGEABLE % {"state": patient_status_words(appointment, now)})


def patient_visit_actions(appointment: Appointment, now: datetime) -> set[VisitAction]:
    """What the patient may do to APPOINTMENT at NOW (confirm, move, cancel): the buttons a page shows."""
    return {action for action in PATIENT_ACTIONS if not patient_visit_problem(appointment, action, now)}


def _refuse_unless_allowed(appointment: Appointment, action: VisitAction) -> None:
    problem = patient_visit_problem(appointment, action, timezone.now())
    if problem:
        raise ValidationError(problem)


def patient_visit_confirm(*, appointment: Appointment, actor: Actor) -> Appointment:
    """The patient confirms their visit (as a C reply does)."""
    _require_own(appointment, actor)
    _refuse_unless_allowed(appointment, VisitAction.CONFIRM)
    try:
        return appointment_set_status(
            appointment=appointment,
            status=AppointmentStatus.CONFIRMED,
            actor=actor,
            source=ChangeSource.PORTAL,
            detail="confirmed in the portal",
        )
    except ValidationError:
        raise ValidationError(str(NOT_CHANGED)) from None


def patient_visit_cancel(*, appointment: Appointment, actor: Actor) -> Appointment:
    """The patient cancels their visit (as X twice does): reminders withdrawn, the time offered to the waitlist."""
    _require_own(appointment, actor)
    _refuse_unless_allowed(appointment, VisitAction.CANCEL)
    try:
        return appointment_cancel(
            appointment=appointment,
            actor=actor,
            source=ChangeSource.PORTAL,
            by_patient=True,
            reason="cancelled in the portal",
        )
    except ValidationError:
        raise ValidationError(str(NOT_CHANGED)) from None


def patient_visit_reschedule(
    *, appointment: Appointment, actor: Actor, starts_at: datetime, clinician: Any
) -> Appointment:
    """Move the patient's visit to a free time `reschedule_slots` offers (same type and location); the new visit."""
    _require_own(appointment, actor)
    _refuse_unless_allowed(appointment, VisitAction.MOVE)
    now = timezone.now()
    if reschedule_slot_offered(appointment, now=now, starts_at=starts_at, clinician=clinician) is None:
        raise ValidationError(str(SLOT_GONE))
    try:
        return appointment_move(
            appointment=appointment,
            starts_at=starts_at,
            actor=actor,
            source=ChangeSource.PORTAL,
            clinician=clinician,
            location=appointment.location,
        )
    except ValidationError:
        raise ValidationError(str(SLOT_GONE)) from None
