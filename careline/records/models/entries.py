"""A patient's clinical record entries (allergies, medications, problems, immunizations, visit summaries).

Entries are never edited in place: a change goes through `records.services.entries.record_amend`, which
saves the new values and appends a `RecordRevision` (what the entry said, who changed it, when and why).
The first revision is the entry as it was entered, so the history shows every version.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models


class RecordEntry(models.Model):
    """What every record entry has: its patient, who entered it and when, and its version."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField()

    # The fields a revision keeps (and an amendment may change), set by each kind.
    TRACKED: tuple[str, ...] = ()
    # Set by record_amend on the copy it saves: the only in-place save allowed.
    _amending: bool = False

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The one way to change an entry is an amendment, which keeps the earlier version in the history.
        if self.pk is not None and not self._amending:
            raise ValueError("record entries are never edited in place; use record_amend")
        super().save(*args, **kwargs)

    def tracked_values(self) -> dict[str, Any]:
        """The entry's tracked fields as JSON-ready values (dates as ISO text, relations as ids)."""
        values: dict[str, Any] = {}
        for name in self.TRACKED:
            value = getattr(self, self._meta.get_field(name).attname)  # type: ignore[union-attr]
            if hasattr(value, "isoformat"):
                value = value.isoformat()
            elif isinstance(value, Decimal):
                value = str(value)
            values[name] = value
        return values

    @property
    def is_entered_in_error(self) -> bool:
        return getattr(self, "status", "") == ENTERED_IN_ERROR


ENTERED_IN_ERROR = "entered_in_error"


class AllergySeverity(models.TextChoices):
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"
    UNKNOWN = "unknown", "Unknown"


class AllergyStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"
    RESOLVED = "resolved", "Resolved"
    ENTERED_IN_ERROR = ENTERED_IN_ERROR, "Entered in error"


class Allergy(RecordEntry):
    """An allergy or intolerance."""

    substance = models.CharField(max_length=120)
    reaction = models.CharField(max_length=200, blank=True)
    severity = models.CharField(
        max_length=10, choices=AllergySeverity.choices, default=AllergySeverity.UNKNOWN
    )
    status = models.CharField(max_length=20, choices=AllergyStatus.choices, default=AllergyStatus.ACTIVE)

    TRACKED = ("substance", "reaction", "severity", "status")

    class Meta:
        ordering = ["substance", "id"]
        indexes = [models.Index(fields=["patient", "status"])]
        verbose_name_plural = "allergies"

    def __str__(self) -> str:
        return f"Allergy {self.pk}"


class MedicationStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    STOPPED = "stopped", "Stopped"
    COMPLETED = "completed", "Completed"
    ENTERED_IN_ERROR = ENTERED_IN_ERROR, "Entered in error"


class Medication(RecordEntry):
    """A medication the patient takes or took."""

    name = models.CharField(max_length=200)
    dose = models.CharField(max_length=100, blank=True)
    instructions = models.CharField(max_length=500, blank=True)
    status = models.CharField(
        max_length=20, choices=MedicationStatus.choices, default=MedicationStatus.ACTIVE
    )
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)

    TRACKED = ("name", "dose", "instructions", "status", "start_date", "end_date")

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["patient", "status"])]

    def __str__(self) -> str:
        return f"Medication {self.pk}"


class ProblemStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    RESOLVED = "resolved", "Resolved"
    INACTIVE = "inactive", "Inactive"
    ENTERED_IN_ERROR = ENTERED_IN_ERROR, "Entered in error"


class Problem(RecordEntry):
    """A condition on the problem list."""

    name = models.CharField(max_length=200)
    onset = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=ProblemStatus.choices, default=ProblemStatus.ACTIVE)

    TRACKED = ("name", "onset", "status")

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["patient", "status"])]

    def __str__(self) -> str:
        return f"Problem {self.pk}"


class ImmunizationStatus(models.TextChoices):
    COMPLETED = "completed", "Given"
    ENTERED_IN_ERROR = ENTERED_IN_ERROR, "Entered in error"


class Immunization(RecordEntry):
    """A vaccine given."""

    vaccine = models.CharField(max_length=200)
    date_given = models.DateField()
    lot = models.CharField(max_length=50, blank=True)
    status = models.CharField(
        max_length=20, choices=ImmunizationStatus.choices, default=ImmunizationStatus.COMPLETED
    )

    TRACKED = ("vaccine", "date_given", "lot", "status")

    class Meta:
        ordering = ["-date_given", "-id"]
        indexes = [models.Index(fields=["patient", "-date_given"])]

    def __str__(self) -> str:
        return f"Immunization {self.pk}"


class VisitSummaryStatus(models.TextChoices):
    FINAL = "final", "Final"
    ENTERED_IN_ERROR = ENTERED_IN_ERROR, "Entered in error"


class VisitSummary(RecordEntry):
    """What the clinician tells the patient about a visit (the patient reads it; care notes stay staff-only)."""

    visit_date = models.DateField()
    appointment = models.ForeignKey(
        "scheduling.Appointment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    summary = models.TextField()
    status = models.CharField(
        max_length=20, choices=VisitSummaryStatus.choices, default=VisitSummaryStatus.FINAL
    )

    TRACKED = ("visit_date", "appointment", "clinician", "summary", "status")

    class Meta:
        ordering = ["-visit_date", "-id"]
        indexes = [models.Index(fields=["patient", "-visit_date"])]
        verbose_name_plural = "visit summaries"

    def __str__(self) -> str:
        return f"Visit summary {self.pk}"


class RecordRevision(models.Model):
    """One version of a record entry (or a result, or a document's details): the values, who, when and why.

    Version 1 is the entry as entered (reason empty); each amendment adds the next version.
    """

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    entry_type = models.CharField(max_length=40)  # the model's label, "records.allergy"
    entry_id = models.PositiveBigIntegerField()
    version = models.PositiveIntegerField()
    values = models.JSONField()
    reason = models.CharField(max_length=200, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["entry_type", "entry_id", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["entry_type", "entry_id", "version"], name="record_revision_one_per_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.entry_type} {self.entry_id} v{self.version}"
