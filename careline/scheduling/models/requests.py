"""Visit requests: a patient (or their caregiver) asks for a visit; the front desk books or declines it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class VisitRequestState(models.TextChoices):
    OPEN = "open", _("Waiting for the clinic")
    BOOKED = "booked", _("Booked")
    DECLINED = "declined", _("Not booked")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class TimeOfDay(models.TextChoices):
    MORNING = "morning", _("Morning")
    AFTERNOON = "afternoon", _("Afternoon")
    EVENING = "evening", _("Evening")


class DeclineReason(models.TextChoices):
    """Why a request was not booked, in words the patient is told (fixed, so no clinical detail can slip in)."""

    NO_TIMES = "no_times", _("We have no free times that fit the days and times you asked for.")
    CALL_US = "call_us", _("We need to talk with you to find the right visit.")
    NOT_NEEDED = "not_needed", _("You already have a visit booked for this.")
    NOT_OFFERED = "not_offered", _("This kind of visit cannot be booked at this location right now.")


class VisitRequest(models.Model):
    """A wish for a visit: type, location, preferred weekdays and times of day, and a staff-only reason."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="visit_requests")
    appointment_type = models.ForeignKey(
        "scheduling.AppointmentType", on_delete=models.PROTECT, related_name="visit_requests"
    )
    location = models.ForeignKey(
        "locations.Location", on_delete=models.PROTECT, related_name="visit_requests"
    )
    preferred_days = models.JSONField(default=list, blank=True, help_text="Weekdays, 0 = Monday")
    preferred_times = models.JSONField(default=list, blank=True, help_text="TimeOfDay codes")
    reason = models.TextField(blank=True, help_text="Staff only: never texted")
    state = models.CharField(max_length=10, choices=VisitRequestState.choices, default=VisitRequestState.OPEN)
    decline_reason = models.CharField(max_length=20, choices=DeclineReason.choices, blank=True)
    appointment = models.ForeignKey(
        "scheduling.Appointment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who asked: the patient, or a caregiver for them (a plain id, as the audit trail keeps it).
    requested_by_caregiver_id = models.PositiveBigIntegerField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["state", "location", "created_at"], name="visit_request_queue"),
            models.Index(fields=["patient", "created_at"], name="visit_request_patient"),
        ]

    def __str__(self) -> str:
        return f"Visit request #{self.pk} ({self.state})"

    @property
    def preferred_days_labels(self) -> list[str]:
        from careline.locations.models import Weekday

        return [str(Weekday(day).label) for day in self.preferred_days if day in Weekday.values]

    @property
    def preferred_times_labels(self) -> list[str]:
        return [str(TimeOfDay(code).label) for code in self.preferred_times if code in TimeOfDay.values]
