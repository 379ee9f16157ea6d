"""Appointments booked, moved and cancelled on the patient timeline."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from careline.core.permissions import Perm, has_perm
from careline.patients.models import Patient
from careline.patients.timeline import SOURCE_LIMIT, TimelineEntry, register_timeline_source
from careline.scheduling.models import AppointmentStatus, AppointmentStatusChange

CANCELLED = {AppointmentStatus.CANCELLED_CLINIC, AppointmentStatus.CANCELLED_PATIENT}


@register_timeline_source
def appointment_entries(patient: Patient, user: Any) -> list[TimelineEntry]:
    """Bookings, moves and cancellations of the patient's visits (with SCHEDULE_VIEW), in one query."""
    if not has_perm(user, Perm.SCHEDULE_VIEW):
        return []
    changes = (
        AppointmentStatusChange.objects.filter(appointment__patient=patient)
        .filter(
            to_status__in=[AppointmentStatus.BOOKED, AppointmentStatus.RESCHEDULED, *CANCELLED],
        )
        .exclude(to_status=AppointmentStatus.BOOKED, from_status__gt="")
        .select_related(
            "appointment__location",
            "appointment__appointment_type",
            "appointment__clinician",
            "appointment__rescheduled_to",
        )
        .order_by("-at", "-id")[:SOURCE_LIMIT]
    )
    entries = []
    for change in changes:
        appointment = change.appointment
        local = appointment.starts_at.astimezone(appointment.location.zone)
        when = f"{local:%a %d %b %Y %H:%M}"
        if change.to_status == AppointmentStatus.RESCHEDULED:
            moved_to = getattr(appointment, "rescheduled_to", None)
            target = (
                f" to {moved_to.starts_at.astimezone(moved_to.location.zone):%a %d %b %Y %H:%M}"
                if moved_to
                else ""
            )
            title = f"Visit of {when} moved{target}"
        elif change.to_status in CANCELLED:
            title = f"Visit of {when} {AppointmentStatus(change.to_status).label.lower()}"
        elif appointment.rescheduled_from_id:
            continue  # the move's own entry says where it went
        else:
            title = f"Visit booked for {when}"
        entries.append(
            TimelineEntry(
                at=change.at,
                kind="appointment",
                title=title,
                body=f"{appointment.appointment_type} with {appointment.clinician} at {appointment.location}",
                url=reverse("scheduling:appointment", args=[appointment.pk]),
            )
        )
    return entries
