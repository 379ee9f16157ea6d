"""Care after discharge: programs, enrolments, check-ins, readings and the alerts nurses work."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from careline.care.measures import MEASURE_FACTS, Measure, reading_text


class Severity(models.TextChoices):
    NORMAL = "normal", "In range"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"


SEVERITY_RANK = {Severity.NORMAL: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


class Thresholds(models.Model):
    """Warning and critical limits of one measure (the value; `second_*` for the diastolic pressure).

    Empty limits do not apply. A symptom question answered yes has the severity `yes_severity`.
    """

    measure = models.CharField(max_length=30, choices=Measure.choices)
    warning_low = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    warning_high = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    critical_low = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    critical_high = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    second_warning_high = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    second_critical_high = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    yes_severity = models.CharField(max_length=10, choices=Severity.choices, default="", blank=True)

    THRESHOLD_FIELDS = (
        "warning_low",
        "warning_high",
        "critical_low",
        "critical_high",
        "second_warning_high",
        "second_critical_high",
        "yes_severity",
    )

    class Meta:
        abstract = True

    def clean(self) -> None:
        pairs = [
            ("critical_low", "warning_low"),
            ("warning_low", "warning_high"),
            ("warning_high", "critical_high"),
            ("second_warning_high", "second_critical_high"),
        ]
        for lower, higher in pairs:
            a, b = getattr(self, lower), getattr(self, higher)
            if a is not None and b is not None and a > b:
                raise ValidationError(
                    {higher: f"{higher.replace('_', ' ')} must not be below {lower.replace('_', ' ')}."}
                )

    def severity_of(self, value: Decimal, value2: Decimal | None = None) -> Severity:
        """How far VALUE (and VALUE2) are out of range: critical, warning or normal."""
        if self.measure == Measure.SYMPTOM:
            return Severity(self.yes_severity or Severity.NORMAL) if value else Severity.NORMAL

        def beyond(limit: Decimal | None, number: Decimal | None, *, high: bool) -> bool:
            if limit is None or number is None:
                return False
            return number >= limit if high else number <= limit

        if (
            beyond(self.critical_high, value, high=True)
            or beyond(self.critical_low, value, high=False)
            or beyond(self.second_critical_high, value2, high=True)
        ):
            return Severity.CRITICAL
        if (
            beyond(self.warning_high, value, high=True)
            or beyond(self.warning_low, value, high=False)
            or beyond(self.second_warning_high, value2, high=True)
        ):
            return Severity.WARNING
        return Severity.NORMAL


class ProgramChannel(models.TextChoices):
    TEXT = "text", "Text messages"
    PORTAL = "portal", "Patient portal"
    BOTH = "both", "Text and portal"


class CareProgram(models.Model):
    """What a program measures, when and for how long, and the instructions sent at enrolment (no PHI)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    checkin_time = models.TimeField(default=time(9, 0), help_text="Local time of the daily check-in")
    every_days = models.PositiveSmallIntegerField(default=1, help_text="A check-in every N days")
    duration_days = models.PositiveSmallIntegerField(default=30)
    instructions_en = models.TextField(blank=True, help_text="Sent at enrolment: no patient detail")
    instructions_es = models.TextField(blank=True)
    instructions_link = models.CharField(max_length=200, blank=True, help_text="Portal path of the full text")
    follow_up_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Ask for a follow-up visit within N days of enrolment"
    )
    reminder_after_hours = models.PositiveSmallIntegerField(default=4)
    missed_days_for_task = models.PositiveSmallIntegerField(default=2)
    escalate_after_minutes = models.PositiveIntegerField(default=60)
    # Heart failure: a gain of this many kg within `weight_gain_days` opens an alert.
    weight_gain_kg = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    weight_gain_days = models.PositiveSmallIntegerField(default=3)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProgramMeasure(Thresholds):
    """One measure of a program, with its thresholds (and the question, for a symptom)."""

    program = models.ForeignKey(CareProgram, on_delete=models.CASCADE, related_name="measures")
    question_en = models.CharField(max_length=160, blank=True)
    question_es = models.CharField(max_length=160, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["program", "position", "id"]

    def __str__(self) -> str:
        return f"{self.program} {self.measure}"


class EnrolmentState(models.TextChoices):
    ACTIVE = "active", "Active"
    ENDED = "ended", "Ended"


class Enrolment(models.Model):
    """A patient in a program: check-ins go out until it ends (unenrolled, or the program's last day)."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="care_enrolments")
    program = models.ForeignKey(CareProgram, on_delete=models.PROTECT, related_name="enrolments")
    location = models.ForeignKey("locations.Location", on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=10, choices=ProgramChannel.choices, default=ProgramChannel.TEXT)
    checkin_time = models.TimeField()
    starts_on = models.DateField()
    ends_on = models.DateField()
    state = models.CharField(max_length=10, choices=EnrolmentState.choices, default=EnrolmentState.ACTIVE)
    enrolled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    follow_up_request_id = models.PositiveIntegerField(null=True, blank=True)
    # The day (patient's) the "texts are not watched around the clock" line was last sent.
    safety_line_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "program"],
                condition=models.Q(state="active"),
                name="care_enrolment_one_active_per_program",
            )
        ]

    def __str__(self) -> str:
        return f"Enrolment {self.pk}"

    @property
    def is_active(self) -> bool:
        return self.state == EnrolmentState.ACTIVE

    @property
    def texts(self) -> bool:
        return self.channel in (ProgramChannel.TEXT, ProgramChannel.BOTH)


class EnrolmentThreshold(Thresholds):
    """A clinician's thresholds for one patient's measure, in place of the program's."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="thresholds")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "measure"], name="care_threshold_one_per_measure")
        ]

    def __str__(self) -> str:
        return f"Thresholds {self.measure} of enrolment {self.enrolment_id}"


class CheckInState(models.TextChoices):
    PLANNED = "planned", "Planned"
    SENT = "sent", "Sent"
    ANSWERED = "answered", "Answered"
    MISSED = "missed", "Missed"
    CANCELLED = "cancelled", "Cancelled"


class CheckIn(models.Model):
    """One check-in due at a moment (the patient's local check-in time); the sweep sends it when due."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="checkins")
    due_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=CheckInState.choices, default=CheckInState.PLANNED)
    sent_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    message_id = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [models.UniqueConstraint(fields=["enrolment", "due_at"], name="care_checkin_once")]
        indexes = [
            models.Index(fields=["due_at"], name="care_checkin_due", condition=models.Q(state="planned")),
            models.Index(fields=["sent_at"], name="care_checkin_sent", condition=models.Q(state="sent")),
        ]

    def __str__(self) -> str:
        return f"Check-in {self.pk}"


class ReadingSource(models.TextChoices):
    TEXT = "text", "Text message"
    PORTAL = "portal", "Patient portal"
    STAFF = "staff", "Entered by staff"


class Reading(models.Model):
    """One measurement in its canonical unit (with the patient's own value, unit and words kept)."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="care_readings")
    enrolment = models.ForeignKey(
        Enrolment, null=True, blank=True, on_delete=models.SET_NULL, related_name="readings"
    )
    checkin = models.ForeignKey(
        CheckIn, null=True, blank=True, on_delete=models.SET_NULL, related_name="readings"
    )
    measure = models.CharField(max_length=30, choices=Measure.choices)
    value = models.DecimalField(max_digits=7, decimal_places=1)
    value2 = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    pulse = models.DecimalField(max_digits=5, decimal_places=0, null=True, blank=True)
    unit = models.CharField(max_length=12)
    loinc_code = models.CharField(max_length=10, blank=True)
    loinc_code2 = models.CharField(max_length=10, blank=True)
    original_value = models.CharField(max_length=20, blank=True)
    original_unit = models.CharField(max_length=12, blank=True)
    original_text = models.CharField(max_length=300, blank=True)
    source = models.CharField(max_length=10, choices=ReadingSource.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.NORMAL)
    taken_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    message_id = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-taken_at", "-id"]
        indexes = [models.Index(fields=["patient", "measure", "taken_at"])]

    def __str__(self) -> str:
        return f"Reading {self.pk}"

    @property
    def shown(self) -> str:
        return reading_text(self.measure, self.value, self.value2)

    @property
    def facts(self) -> object:
        return MEASURE_FACTS[self.measure]


class AlertKind(models.TextChoices):
    THRESHOLD = "threshold", "Reading beyond a threshold"
    TREND = "trend", "Repeated warnings"
    WEIGHT_GAIN = "weight_gain", "Weight gain"
    MISSED = "missed", "Missed check-ins (call the patient)"


class AlertState(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"


class AlertOutcome(models.TextChoices):
    ADVICE = "advice", "Advice given"
    MEDICATION = "medication", "Medication changed"
    VISIT = "visit", "Visit booked"
    EMERGENCY = "emergency", "Sent to emergency care"
    NO_ACTION = "no_action", "No action needed"
    UNREACHABLE = "unreachable", "Could not reach the patient"


class CareAlert(models.Model):
    """A patient for a nurse to look at, at the patient's location: opened by a reading, a trend or missed
    check-ins; acknowledged, noted and resolved with an outcome. `summary` is staff-only clinical text."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="care_alerts")
    location = models.ForeignKey("locations.Location", on_delete=models.PROTECT, related_name="+")
    enrolment = models.ForeignKey(
        Enrolment, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    reading = models.ForeignKey(
        Reading, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    state = models.CharField(max_length=15, choices=AlertState.choices, default=AlertState.OPEN)
    summary = models.CharField(max_length=200)
    opened_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    escalated_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(max_length=20, choices=AlertOutcome.choices, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["location", "state", "opened_at"]),
            models.Index(
                fields=["opened_at"], name="care_alert_unacknowledged", condition=models.Q(state="open")
            ),
        ]

    def __str__(self) -> str:
        return f"Care alert {self.pk}"

    @property
    def is_open(self) -> bool:
        return self.state != AlertState.RESOLVED


class CareAlertNote(models.Model):
    """A nurse's note on an alert (append-only)."""

    alert = models.ForeignKey(CareAlert, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(max_length=2000)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Note {self.pk}"


class CallOutcome(models.TextChoices):
    REACHED = "reached", "Reached"
    VOICEMAIL = "voicemail", "Left voicemail"
    NO_ANSWER = "no_answer", "No answer"


class CareAlertCall(models.Model):
    """A nurse's call to the patient about an alert (the call task), with how it went (append-only)."""

    alert = models.ForeignKey(CareAlert, on_delete=models.CASCADE, related_name="calls")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="care_calls")
    caller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(max_length=12, choices=CallOutcome.choices)
    called_at = models.DateTimeField()

    class Meta:
        ordering = ["-called_at", "-id"]
        indexes = [models.Index(fields=["patient", "called_at"])]

    def __str__(self) -> str:
        return f"Call {self.pk}"
