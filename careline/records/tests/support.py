"""Rows of a patient's record for the records tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from careline.core.actor import Actor
from careline.patients.models import Patient
from careline.records.models import Allergy, LabResult
from careline.records.services.entries import record_add
from careline.records.services.results import result_add

NOON_CHICAGO = datetime(2031, 1, 6, 18, 0, tzinfo=UTC)  # a Monday, inside the texting window
PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def allergy_for(patient: Patient, user: Any, **values: Any) -> Allergy:
    values = {"substance": "Penicillin", "reaction": "Hives", "severity": "moderate", **values}
    return record_add(model=Allergy, patient=patient, values=values, actor=Actor.staff(user))


def result_for(patient: Patient, user: Any, *, value: str = "5.4", **values: Any) -> LabResult:
    """A result of PATIENT entered by USER (HbA1c, range 4.0-5.6 unless VALUES say otherwise)."""
    now = datetime.now(tz=UTC)
    fields = {
        "test_code": "HBA1C",
        "test_name": "Hemoglobin A1c",
        "value": value,
        "unit": "%",
        "reference_low": Decimal("4.0"),
        "reference_high": Decimal("5.6"),
        "collected_at": now - timedelta(days=1),
        "resulted_at": now - timedelta(hours=2),
        "comment": "",
        **values,
    }
    return result_add(patient=patient, values=fields, actor=Actor.staff(user))


def document_of(patient: Patient) -> Any:
    """PATIENT's current document (one is added, by the patient's primary clinician or any staff, if none)."""
    import io

    from careline.accounts.models import User
    from careline.records.models import Document
    from careline.records.services.documents import document_add

    found = Document.objects.filter(patient=patient, status="current").first()
    if found is not None:
        return found
    author = patient.primary_clinician or User.objects.order_by("pk").first()
    assert author is not None, "a document needs a member of staff to add it"
    return document_add(
        patient=patient, title="Visit letter", upload=io.BytesIO(PDF_BYTES), original_name="", size=None,
        actor=Actor.staff(author),
    )  # fmt: skip


def released_result_of(patient: Patient) -> LabResult:
    """A released result of PATIENT (a normal HbA1c, released at entry, if there is none)."""
    from careline.accounts.models import User

    found = LabResult.objects.filter(patient=patient, released_at__isnull=False).first()
    if found is not None:
        return found
    author = patient.primary_clinician or User.objects.order_by("pk").first()
    assert author is not None, "a result needs a member of staff to enter it"
    return result_for(patient, author)
