"""Care notes (never edited in place) and pinned alerts."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class NoteKind(models.TextChoices):
    HANDOFF = "handoff", "Handoff"
    CLINICAL = "clinical", "Clinical"
    COMMUNICATION = "communication", "Communication"
    BILLING = "billing", "Billing"
    OTHER = "other", "Other"


class CareNote(models.Model):
    """A note about a patient. The original text is kept for ever; changes are NoteAmendment rows."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="notes")
    kind = models.CharField(max_length=15, choices=NoteKind.choices)
    text = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="care_notes")
    location = models.ForeignKey(
        "locations.Location",
        on_delete=models.PROTECT,
        related_name="care_notes",
        help_text="Where it was written: the patient's primary location at the time",
    )
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["patient", "-created_at"]),
            models.Index(fields=["location", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} note on {self.created_at:%Y-%m-%d}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and type(self).objects.filter(pk=self.pk).exclude(text=self.text).exists():
            raise ValueError("care notes are never edited in place; add an amendment")
        super().save(*args, **kwargs)


class NoteAmendment(models.Model):
    """A later version of a note's text: who changed it, when and why. The latest one is the current text."""

    note = models.ForeignKey(CareNote, on_delete=models.CASCADE, related_name="amendments")
    text = models.TextField()
    reason = models.CharField(max_length=200, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Amendment of {self.note_id} at {self.created_at:%Y-%m-%d %H:%M}"


class AlertKind(models.TextChoices):
    ALLERGY = "allergy", "Allergy"
    INTERPRETER = "interpreter", "Interpreter needed"
    HARD_OF_HEARING = "hard_of_hearing", "Hard of hearing"
    PREFERS_TEXT = "prefers_text", "Prefers text"
    MOBILITY = "mobility", "Mobility"
    OTHER = "other", "Other"


class PatientAlert(models.Model):
    """A pinned alert shown on every page about the patient until it is removed (removal is kept)."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    text = models.CharField(max_length=200)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.text}"

    @property
    def is_active(self) -> bool:
        return self.removed_at is None
