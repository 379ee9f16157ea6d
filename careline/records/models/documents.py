"""PDF documents staff upload to a patient's record (stored under a random name, never the uploaded one)."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import models

from careline.records.models.entries import ENTERED_IN_ERROR, RecordEntry

FOLDER = "records/documents"


def document_upload_to(instance: Any, filename: str) -> str:
    """A random, unguessable name in the documents folder (the uploaded name is kept only as text)."""
    return f"{FOLDER}/{secrets.token_urlsafe(24)}.pdf"


class DocumentStatus(models.TextChoices):
    CURRENT = "current", "Current"
    ENTERED_IN_ERROR = ENTERED_IN_ERROR, "Entered in error"


class Document(RecordEntry):
    """A PDF in the patient's record: its title and status may be amended, its file never changes."""

    title = models.CharField(max_length=200)
    file = models.FileField(upload_to=document_upload_to, max_length=200)
    original_name = models.CharField(max_length=200, blank=True)
    size = models.PositiveIntegerField()
    # The key of the download link: the row's id alone is guessable.
    download_key = models.CharField(max_length=43, unique=True)
    status = models.CharField(max_length=20, choices=DocumentStatus.choices, default=DocumentStatus.CURRENT)

    TRACKED = ("title", "status")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["patient", "-created_at"])]

    def __str__(self) -> str:
        return f"Document {self.pk}"
