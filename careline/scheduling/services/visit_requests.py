"""Visit requests: a patient (or caregiver) asks for a visit in the portal; the front desk books or declines it.

The reason the patient gives is for staff only: it is never texted, and a decline tells the patient one of
`DeclineReason`'s fixed sentences (never staff's own words). Each change is a conditional update from OPEN,
so two people handling the same request at once cannot both book or decline it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.core.languages import say, text_language
from careline.core.models import ActorKind
from careline.core.text import has_control_characters
from careline.locations.models import Location, Weekday
from careline.patients.models import Patient, Purpose
from careline.scheduling import reply_texts as texts
from careline.scheduling.models import (
    Appointment,
    AppointmentType,
    DeclineReason,
    TimeOfDay,
    VisitRequest,
    VisitRequestState,
)

logger = logging.getLogger(__name__)

REASON_MAX = 500
MAX_OPEN_PER_PATIENT = 5  # more open requests than this is a mistake (or a script), not a wish

TYPE_NOT_OFFERED = _("Choose a kind of visit that can be requested online.")
LOCATION_NOT_OFFERED = _("That kind of visit is not offered at this location.")
BAD_DAYS = _("Choose days of the week from the list.")
BAD_TIMES = _("Choose times of day from the list.")
REASON_TOO_LONG = _("Keep the reason under 500 characters.")
REASON_BAD_CHARACTERS = _("The reason contains characters that cannot be stored.")
TOO_MANY_OPEN = _("You already have several requests waiting. The clinic will contact you about them first.")
NOT_OPEN = _("This request has already been handled.")


def _require_patient_side(patient: Patient, actor: Actor) -> None:
    if actor.kind not in (ActorKind.PATIENT, ActorKind.CAREGIVER) or actor.patient_id != patient.pk:
        raise PermissionDenied("Not this patient's request")


def visit_request_types(location: Location | None = None) -> list[AppointmentType]:
    """Appointment types a patient may request (active, bookable online), optionally offered at LOCATION."""
    types = AppointmentType.objects.filter(is_active=True, bookable_online=True).prefetch_related("locations")
    if location is not None:
        types = types.filter(locations=location)
    return list(types.order_by("name"))


def visit_request_create(
    *,
    patient: Patient,
    appointment_type: AppointmentType,
    location: Location,
    preferred_days: Sequence[int],
    preferred_times: Sequence[str],
    reason: str,
    actor: Actor,
) -> VisitRequest:
    """Record PATIENT's wish for a visit, for the front desk's queue; ValidationError for anything off."""
    _require_patient_side(patient, actor)
    reason = (reason or "").strip()
    if not appointment_type.is_active or not appointment_type.bookable_online:
        raise ValidationError({"appointment_type": [str(TYPE_NOT_OFFERED)]})
    if not location.is_active or not appointment_type.locations.filter(pk=location.pk).exists():
        raise ValidationError({"location": [str(LOCATION_NOT_OFFERED)]})
    try:
        days = sorted({int(day) for day in preferred_days})
    except (TypeError, ValueError):
        days = [-1]
    if any(day not in Weekday.values for day in days):
        raise ValidationError({"preferred_days": [str(BAD_DAYS)]})
    times = [code for code in TimeOfDay.values if code in set(preferred_times)]
    if len(times) != len(set(preferred_times)):
        raise ValidationError({"preferred_times": [str(BAD_TIMES)]})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": [str(REASON_TOO_LONG)]})
    if has_control_characters(reason, allowed="\n\r\t"):
        raise ValidationError({"reason": [str(REASON_BAD_CHARACTERS)]})
    with transaction.atomic():
        # Lock the patient's row so two quick submissions count each other.
        Patient.objects.select_for_update().filter(pk=patient.pk).exists()
        open_count = VisitRequest.objects.filter(patient=patient, state=VisitRequestState.OPEN).count()
        if open_count >= MAX_OPEN_PER_PATIENT:
            raise ValidationError(str(TOO_MANY_OPEN))
        request = VisitRequest.objects.create(
            patient=patient,
            appointment_type=appointment_type,
            location=location,
            preferred_days=days,
            preferred_times=times,
            reason=reason,
            requested_by_caregiver_id=actor.caregiver_id,
        )
        audit_record(action=AuditAction.CREATE, actor=actor, obj=request, patient_id=patient.pk,
                     detail="visit request made")  # fmt: skip
    return request


def visit_request_staff_create(
    *, patient: Patient, appointment_type: AppointmentType, location: Location, reason: str, actor: Actor
) -> VisitRequest:
    """A visit a clinician asks the front desk to book for PATIENT (a care program's follow-up): it joins the
    visit requests queue like a patient's own; REASON stays with staff."""
    if actor.kind not in (ActorKind.STAFF, ActorKind.API_CLIENT):
        raise PermissionDenied("Only staff ask for a follow-up visit")
    reason = (reason or "").strip()[:REASON_MAX]
    if not appointment_type.is_active or not appointment_type.locations.filter(pk=location.pk).exists():
        raise ValidationError({"appointment_type": [str(LOCATION_NOT_OFFERED)]})
    with transaction.atomic():
        request = VisitRequest.objects.create(
            patient=patient, appointment_type=appointment_type, location=location, reason=reason
        )
        audit_record(action=AuditAction.CREATE, actor=actor, obj=request, patient_id=patient.pk,
                     detail="follow-up visit request made by staff")  # fmt: skip
    return request


def _handle(
    visit_request: VisitRequest, *, state: str, actor: Actor, detail: str, **fields: object
) -> VisitRequest:
    """Move VISIT_REQUEST from OPEN to STATE (a conditional update) and audit it; ValidationError if not open."""
    now = timezone.now()
    handled_by = actor.user if actor.kind in (ActorKind.STAFF, ActorKind.API_CLIENT) else None
    changed = VisitRequest.objects.filter(pk=visit_request.pk, state=VisitRequestState.OPEN).update(
        state=state, handled_by=handled_by, handled_at=now, **fields
    )
    if not changed:
        raise ValidationError(str(NOT_OPEN))
    visit_request.refresh_from_db()
    audit_record(action=AuditAction.UPDATE, actor=actor, obj=visit_request, patient_id=visit_request.patient_id,
                 detail=detail)  # fmt: skip
    return visit_request


def visit_request_book(
    *, visit_request: VisitRequest, appointment: Appointment, actor: Actor
) -> VisitRequest:
    """Mark VISIT_REQUEST booked as APPOINTMENT (the patient's visit staff just booked from it)."""
    if appointment.patient_id != visit_request.patient_id:
        raise ValidationError("The visit is for another patient.")
    with transaction.atomic():
        return _handle(
            visit_request,
            state=VisitRequestState.BOOKED,
            actor=actor,
            detail=f"visit request booked as appointment {appointment.pk}",
            appointment=appointment,
        )


def visit_request_decline(*, visit_request: VisitRequest, reason: str, actor: Actor) -> VisitRequest:
    """Decline VISIT_REQUEST for one of DeclineReason's reasons; the patient is told after commit."""
    if reason not in DeclineReason.values:
        raise ValidationError({"reason": ["Choose a reason."]})
    with transaction.atomic():
        handled = _handle(
            visit_request,
            state=VisitRequestState.DECLINED,
            actor=actor,
            detail=f"visit request declined: {reason}",
            decline_reason=reason,
        )
        transaction.on_commit(lambda: visit_request_decline_notify(handled.pk))
    return handled


def visit_request_withdraw(*, visit_request: VisitRequest, actor: Actor) -> VisitRequest:
    """The patient (or caregiver) takes back an open request."""
    _require_patient_side(visit_request.patient, actor)
    with transaction.atomic():
        return _handle(
            visit_request, state=VisitRequestState.WITHDRAWN, actor=actor, detail="visit request withdrawn"
        )


def visit_request_decline_notify(visit_request_id: int) -> None:
    """Tell the patient their request was declined, by their appointment channel, in their language."""
    from careline.core.phones import format_phone
    from careline.messaging.models import MessageKind
    from careline.messaging.outbound.compose import MessageRefused, message_send
    from careline.scheduling.services.reminders import appointment_channel_for

    visit_request = VisitRequest.objects.select_related("patient", "location").get(pk=visit_request_id)
    patient = visit_request.patient
    channel = appointment_channel_for(patient)
    if channel is None or not patient.may_be_contacted:
        logger.warning("No channel to tell visit request %s was declined", visit_request.pk)
        return
    language = text_language(patient.language)
    body = say(
        texts.VISIT_REQUEST_DECLINED,
        language,
        first_name=patient.first_name,
        place=visit_request.location.name,
        reason=say(DeclineReason(visit_request.decline_reason).label, language),
        phone=format_phone(visit_request.location.phone),
    )
    by_email = "email" in channel.type.capabilities
    subject = say(texts.VISIT_REQUEST_DECLINED_SUBJECT, language) if by_email else ""
    try:
        message_send(
            body=body,
            patient=patient,
            channel=channel,
            kind=MessageKind.AUTOMATED,
            purpose=Purpose.APPOINTMENTS,
            idempotency_key=f"visit-request-declined:{visit_request.pk}",
            subject=subject,
        )
    except MessageRefused:
        logger.warning("Decline notice for visit request %s refused", visit_request.pk)
