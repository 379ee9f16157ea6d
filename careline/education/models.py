"""Education items (articles, PDFs, video links), what a care program sends when, and each send's opens."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import models

FOLDER = "education"


def item_upload_to(instance: Any, filename: str) -> str:
    """A random, unguessable name in the education folder (the uploaded name is kept only as text)."""
    return f"{FOLDER}/{secrets.token_urlsafe(24)}.pdf"


class ItemKind(models.TextChoices):
    ARTICLE = "article", "Article"
    PDF = "pdf", "PDF"
    VIDEO = "video", "Video link"


class Topic(models.TextChoices):
    GENERAL = "general", "General health"
    HEART = "heart", "Heart and blood pressure"
    DIABETES = "diabetes", "Diabetes"
    SURGERY = "surgery", "After surgery"
    MEDICATIONS = "medications", "Medicines"
    NUTRITION = "nutrition", "Food and nutrition"
    CAREGIVING = "caregiving", "Caring for someone"
    MENTAL_HEALTH = "mental_health", "Mental health"


class ItemLanguage(models.TextChoices):
    ENGLISH = "en", "English"
    SPANISH = "es", "Spanish"


class EducationItem(models.Model):
    """One piece of teaching material of the clinic's library (clinic-wide, not a patient's)."""

    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=ItemKind.choices)
    topic = models.CharField(max_length=20, choices=Topic.choices)
    language = models.CharField(max_length=5, choices=ItemLanguage.choices)
    # The US school grade a reader needs (patient materials aim for 6-8).
    reading_level = models.PositiveSmallIntegerField()
    summary = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True, help_text="An article's text: paragraphs, '# ' headings, '- ' lists")
    file = models.FileField(upload_to=item_upload_to, max_length=200, blank=True)
    original_name = models.CharField(max_length=200, blank=True)
    video_url = models.URLField(max_length=500, blank=True)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["title", "id"]
        indexes = [models.Index(fields=["topic", "language"])]

    def __str__(self) -> str:
        return f"Education item {self.pk}"


class ProgramItem(models.Model):
    """An item a care program sends each enrolled patient DAY_OFFSET days after enrolment."""

    program = models.ForeignKey("care.CareProgram", on_delete=models.CASCADE, related_name="education_items")
    item = models.ForeignKey(EducationItem, on_delete=models.CASCADE, related_name="program_items")
    day_offset = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["day_offset", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "item", "day_offset"], name="education_program_item_once_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"Program item {self.pk}"


class EducationSend(models.Model):
    """One item sent to a patient or one of their caregivers: the text, and how often its link was opened."""

    item = models.ForeignKey(EducationItem, on_delete=models.PROTECT, related_name="sends")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="education_sends")
    caregiver = models.ForeignKey(
        "patients.Caregiver", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.ForeignKey(
        "messaging.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    enrolment = models.ForeignKey(
        "care.Enrolment", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    program_item = models.ForeignKey(
        ProgramItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="sends"
    )
    sent_at = models.DateTimeField()
    opened_at = models.DateTimeField(null=True, blank=True)
    last_opened_at = models.DateTimeField(null=True, blank=True)
    open_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-sent_at", "-id"]
        indexes = [models.Index(fields=["patient", "-sent_at"])]
        constraints = [
            # A program's item goes once per enrolment, however often the sweep runs.
            models.UniqueConstraint(
                fields=["enrolment", "program_item"],
                condition=models.Q(enrolment__isnull=False, program_item__isnull=False),
                name="education_send_once_per_enrolment_item",
            )
        ]

    def __str__(self) -> str:
        return f"Education send {self.pk}"

    @property
    def recipient_label(self) -> str:
        return f"caregiver {self.caregiver.name}" if self.caregiver_id and self.caregiver else "patient"
