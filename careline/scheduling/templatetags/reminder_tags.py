"""Template tags for the reminders partial that the appointment page includes."""

from __future__ import annotations

from django import template

from careline.scheduling.models import Appointment
from careline.scheduling.queries.reminders import ReminderRow, appointment_reminder_rows

register = template.Library()


@register.simple_tag
def appointment_reminders(appointment: Appointment) -> list[ReminderRow]:
    """The reminder rows of APPOINTMENT (see queries.reminders.appointment_reminder_rows)."""
    return appointment_reminder_rows(appointment)
