"""Appointments, clinicians' hours, reminder rules and reminders, and the waitlist."""

from careline.scheduling.models.appointments import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentSeries,
    AppointmentStatus,
    AppointmentStatusChange,
    AppointmentType,
    ChangeSource,
    TimeOff,
    WorkingHours,
)
from careline.scheduling.models.reminders import (
    Reminder,
    ReminderChannel,
    ReminderReplan,
    ReminderRule,
    ReminderState,
    WaitlistEntry,
    WaitlistOffer,
)
from careline.scheduling.models.requests import (
    DeclineReason,
    TimeOfDay,
    VisitRequest,
    VisitRequestState,
)

__all__ = [
    "ACTIVE_STATUSES",
    "Appointment",
    "AppointmentSeries",
    "AppointmentStatus",
    "AppointmentStatusChange",
    "AppointmentType",
    "ChangeSource",
    "DeclineReason",
    "Reminder",
    "ReminderChannel",
    "ReminderReplan",
    "ReminderRule",
    "ReminderState",
    "TimeOfDay",
    "TimeOff",
    "VisitRequest",
    "VisitRequestState",
    "WaitlistEntry",
    "WaitlistOffer",
    "WorkingHours",
]
