"""Reminder planning and sending (being built by the reminders owner; signatures are the contract)."""

from __future__ import annotations

from careline.scheduling.models import Appointment, Reminder


def reminders_plan_for_appointment(appointment: Appointment) -> list[Reminder]:
    """(Re)plan APPOINTMENT's reminders for its current time; withdraw pending ones for any other time."""
    return []


def reminders_withdraw_for_appointment(appointment: Appointment, *, reason: str) -> int:
    """Withdraw every pending reminder of APPOINTMENT (cancelled); returns how many."""
    return 0


def appointment_notify(appointment: Appointment, *, event: str) -> None:
    """Text the patient about EVENT ('booked', 'moved', 'cancelled') made by the clinic."""
    return None
