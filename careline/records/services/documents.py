"""PDF documents in a patient's record: checked by their bytes, stored under a random name."""

from __future__ import annotations

import secrets
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction

from careline.core.actor import Actor
from careline.patients.models import Patient
from careline.records.models import Document
from careline.records.services.entries import record_add

PDF_MAGIC = b"%PDF-"


def document_max_bytes() -> int:
    """The largest document accepted (CARELINE_PORTAL_DOCUMENT_MAX_MB)."""
    return int(settings.CARELINE_PORTAL_DOCUMENT_MAX_MB) * 1024 * 1024


def document_content_checked(upload: IO[bytes], *, size: int | None) -> bytes:
    """UPLOAD's bytes when they are a PDF within the size limit (by content, not by name); else ValidationError."""
    limit = document_max_bytes()
    if size is not None and size > limit:
        raise ValidationError(
            {"file": f"The file is larger than {settings.CARELINE_PORTAL_DOCUMENT_MAX_MB} MB."}
        )
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise ValidationError(
            {"file": f"The file is larger than {settings.CARELINE_PORTAL_DOCUMENT_MAX_MB} MB."}
        )
    if not data:
        raise ValidationError({"file": "The file is empty."})
    # A PDF starts with "%PDF-" (readers accept a little junk before it; Careline does not).
    if not data.startswith(PDF_MAGIC):
        raise ValidationError({"file": "Only PDF files can be added (this file is not a PDF)."})
    return data


def document_add(
    *, patient: Patient, title: str, upload: IO[bytes], original_name: str, size: int | None, actor: Actor
) -> Document:
    """Store UPLOAD (a PDF) in PATIENT's record under a random name, titled TITLE (audited)."""
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": "Give the document a title."})
    data = document_content_checked(upload, size=size)
    with transaction.atomic():
        document = record_add(
            model=Document,
            patient=patient,
            values={
                "title": title[:200],
                "file": ContentFile(data, name="document.pdf"),
                "original_name": (original_name or "")[:200],
                "size": len(data),
                "download_key": secrets.token_urlsafe(32),
            },
            actor=actor,
        )
    return document


def document_read(document: Document) -> bytes:
    """DOCUMENT's stored PDF (FileNotFoundError when the file is gone); read whole, it is size-limited."""
    with document.file.open("rb") as handle:
        return handle.read()


def document_download_name(document: Document) -> str:
    """The name a download gets: the document's id, never its title or the patient's name."""
    return f"document-{document.pk}.pdf"
