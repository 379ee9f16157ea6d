"""Appointment types, clinicians' working hours and time off, appointments and their history."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from careline.locations.models import Weekday


class AppointmentType(models.Model):
    """A kind of visit. Its name goes into texts only when marked safe to text (no clinical detail)."""

    name = models.CharField(max_length=100, unique=True)
    duration_minutes = models.PositiveSmallIntegerField(default=30)
    locations = models.ManyToManyField("locations.Location", related_name="appointment_types", blank=True)
    clinicians = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="appointment_types", blank=True
    )
    preparation_instructions = models.TextField(blank=True, help_text="Shown in the portal, never in texts")
    preparation_translations = models.JSONField(
        default=dict, blank=True, help_text="The preparation instructions in each other language, by code"
    )
    reminders_apply = models.BooleanField(default=True)
    bookable_online = models.BooleanField(default=False)
    name_safe_to_text = models.BooleanField(
        default=False, help_text="The name may appear in reminder texts (it reveals nothing clinical)"
    )
    variable_length = models.BooleanField(
        default=False,
        help_text="Staff may lengthen or shorten a visit of this type (drag its end on the calendar)",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def preparation_for(self, language: str | None) -> str:
        """The preparation instructions in LANGUAGE when the type has them, else the English ones."""
        translated = (self.preparation_translations or {}).get(language or "", "")
        if language and language != "en" and isinstance(translated, str) and translated.strip():
            return translated
        return self.preparation_instructions


class WorkingHours(models.Model):
    """One working period of a clinician at a location on a weekday (several make a split day)."""

    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="working_hours"
    )
    location = models.ForeignKey("locations.Location", on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    starts = models.TimeField()
    ends = models.TimeField()

    class Meta:
        ordering = ["clinician", "location", "weekday", "starts"]
        verbose_name_plural = "working hours"

    def __str__(self) -> str:
        return f"{self.clinician} at {self.location}: {self.get_weekday_display()} {self.starts:%H:%M}–{self.ends:%H:%M}"


class TimeOff(models.Model):
    """A clinician away (all locations when location is blank)."""

    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="time_off")
    location = models.ForeignKey("locations.Location", null=True, blank=True, on_delete=models.CASCADE)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["starts_at"]
        verbose_name_plural = "time off"

    def __str__(self) -> str:
        return f"{self.clinician} off {self.starts_at:%Y-%m-%d}"


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", "Booked"
    CONFIRMED = "confirmed", "Confirmed"
    CANCELLED_PATIENT = "cancelled_patient", "Cancelled by the patient"
    CANCELLED_CLINIC = "cancelled_clinic", "Cancelled by the clinic"
    RESCHEDULED = "rescheduled", "Rescheduled"
    CHECKED_IN = "checked_in", "Checked in"
    COMPLETED = "completed", "Completed"
    NO_SHOW = "no_show", "No-show"


# Statuses that hold the clinician's time (a double booking against these is refused).
ACTIVE_STATUSES = frozenset(
    {AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN}
)


class ChangeSource(models.TextChoices):
    STAFF = "staff", "Staff"
    TEXT = "text", "Patient by text"
    API = "api", "API"
    IMPORT = "import", "Import"
    PORTAL = "portal", "Patient portal"
    SYSTEM = "system", "System"


class AppointmentSeries(models.Model):
    """A recurring appointment (weekly physiotherapy); its members are ordinary appointments."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.CASCADE, related_name="appointment_series"
    )
    interval_weeks = models.PositiveSmallIntegerField(default=1)
    count = models.PositiveSmallIntegerField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "appointment series"

    def __str__(self) -> str:
        return f"Every {self.interval_weeks} week(s), {self.count} visits"


class Appointment(models.Model):
    """A visit. `starts_at` is stored in UTC and shown in the location's time zone."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="appointments")
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appointments"
    )
    location = models.ForeignKey("locations.Location", on_delete=models.PROTECT, related_name="appointments")
    appointment_type = models.ForeignKey(
        AppointmentType, on_delete=models.PROTECT, related_name="appointments"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(
        max_length=20, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    series = models.ForeignKey(
        AppointmentSeries, null=True, blank=True, on_delete=models.SET_NULL, related_name="appointments"
    )
    rescheduled_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="rescheduled_to"
    )
    external_id = models.CharField(
        max_length=64, null=True, blank=True, unique=True, help_text="From an import"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(fields=["clinician", "starts_at"]),
            models.Index(fields=["location", "starts_at"]),
            models.Index(fields=["patient", "starts_at"]),
            models.Index(fields=["status", "starts_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.appointment_type} on {self.starts_at:%Y-%m-%d %H:%M} UTC"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def local_start(self):  # type: ignore[no-untyped-def]
        return self.starts_at.astimezone(self.location.zone)


class AppointmentStatusChange(models.Model):
    """Every status change of an appointment, who made it and how."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, choices=AppointmentStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=10, choices=ChangeSource.choices, default=ChangeSource.STAFF)
    detail = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '—'} → {self.to_status}"

    @property
    def from_status_label(self) -> str:
        """The status before the change as staff read it ('' for the booking itself)."""
        return (
            str(AppointmentStatus(self.from_status).label)
            if self.from_status in AppointmentStatus.values
            else ""
        )
