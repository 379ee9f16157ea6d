"""Lab results and when they are released to the patient."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from careline.records.models.entries import ENTERED_IN_ERROR, RecordEntry


class ResultFlag(models.TextChoices):
    NORMAL = "normal", "Normal"
    LOW = "low", "Low"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class ResultStatus(models.TextChoices):
    FINAL = "final", "Final"
    ENTERED_IN_ERROR = ENTERED_IN_ERROR, "Entered in error"


def flag_from_range(value: Decimal | None, low: Decimal | None, high: Decimal | None) -> str | None:
    """The flag a numeric VALUE gets from its reference range; None when it cannot be computed."""
    if value is None or (low is None and high is None):
        return None
    if low is not None and value < low:
        return ResultFlag.LOW
    if high is not None and value > high:
        return ResultFlag.HIGH
    return ResultFlag.NORMAL


class LabResult(RecordEntry):
    """One test result. The patient sees it only once `released_at` is set (by a clinician or a rule)."""

    test_code = models.CharField(max_length=30)
    test_name = models.CharField(max_length=200)
    value = models.CharField(max_length=100)
    # The value as a number when it is one (for the flag and the trend chart).
    value_number = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    unit = models.CharField(max_length=30, blank=True)
    reference_low = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    reference_high = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    reference_text = models.CharField(max_length=100, blank=True)
    flag = models.CharField(max_length=10, choices=ResultFlag.choices)
    flag_overridden = models.BooleanField(default=False)
    collected_at = models.DateTimeField()
    resulted_at = models.DateTimeField()
    comment = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=ResultStatus.choices, default=ResultStatus.FINAL)
    # A release planned by a rule's delay: the sweep releases the row once this time has passed.
    release_due_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    # Null with released_at set: released by a rule (at entry, or by the sweep).
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    TRACKED = (
        "test_code",
        "test_name",
        "value",
        "value_number",
        "unit",
        "reference_low",
        "reference_high",
        "reference_text",
        "flag",
        "flag_overridden",
        "collected_at",
        "resulted_at",
        "comment",
        "status",
    )

    class Meta:
        ordering = ["-resulted_at", "-id"]
        indexes = [
            models.Index(fields=["patient", "-resulted_at"]),
            models.Index(fields=["patient", "test_code", "collected_at"]),
            models.Index(
                fields=["release_due_at"],
                name="result_release_due",
                condition=models.Q(released_at__isnull=True, release_due_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"Result {self.pk}"

    @property
    def is_released(self) -> bool:
        return self.released_at is not None

    @property
    def reference_range(self) -> str:
        """The range as shown: "4.0–5.6", "< 200", "> 40", or its text."""
        return numeric_range_text(self.reference_low, self.reference_high) or self.reference_text


def _plain(number: Decimal) -> str:
    """NUMBER without trailing zeros ("5.6", not "5.6000")."""
    return format(number.normalize(), "f")


def numeric_range_text(low: Decimal | None, high: Decimal | None) -> str:
    """A numeric reference range as shown: "4–5.6", "≤ 100", "≥ 40", or empty."""
    if low is not None and high is not None:
        return f"{_plain(low)}–{_plain(high)}"
    if high is not None:
        return f"≤ {_plain(high)}"
    if low is not None:
        return f"≥ {_plain(low)}"
    return ""


class ReleasePolicy(models.TextChoices):
    IMMEDIATE = "immediate", "Release normal results at once"
    DELAYED = "delayed", "Release normal results after a delay"
    HELD = "held", "Hold every result for a clinician"


class ResultReleaseRule(models.Model):
    """How a test's normal results reach the patient. Results flagged low, high or critical are always held
    for a clinician's release; a test without a rule releases its normal results at once."""

    test_code = models.CharField(max_length=30, unique=True)
    policy = models.CharField(max_length=10, choices=ReleasePolicy.choices, default=ReleasePolicy.IMMEDIATE)
    delay_hours = models.PositiveIntegerField(default=0)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["test_code"]

    def __str__(self) -> str:
        return f"Release rule {self.test_code}"
