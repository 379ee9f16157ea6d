"""Lab results for the portal bench: many rows in bulk, repeated tests per patient forming trends.

Rows are bulk-inserted (no revision history, no audit entries, no notices): the bench measures reading them.
Nine in ten are released; the rest wait for a clinician, as on a real record.
"""

from __future__ import annotations

import io
import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from careline.accounts.models import User
from careline.core.actor import Actor
from careline.records.models import Document, LabResult, flag_from_range

BATCH = 5_000
# (code, name, unit, low, high, typical value)
TESTS = [
    ("HBA1C", "Hemoglobin A1c", "%", Decimal("4.0"), Decimal("5.6"), 6.2),
    ("LDL", "LDL cholesterol", "mg/dL", None, Decimal("100"), 110.0),
    ("TSH", "Thyroid stimulating hormone", "mIU/L", Decimal("0.4"), Decimal("4.0"), 2.1),
    ("GLU", "Glucose, fasting", "mg/dL", Decimal("70"), Decimal("99"), 96.0),
    ("HGB", "Hemoglobin", "g/dL", Decimal("12.0"), Decimal("17.5"), 14.0),
]


def seed_lab_results(patient_ids: list[int], count: int, rng: random.Random) -> int:
    """COUNT results spread over PATIENT_IDS: each patient's tests repeat about monthly back from now."""
    if not patient_ids or count <= 0:
        return 0
    author = User.objects.order_by("pk").first()
    assert author is not None, "the workspace seed makes staff first"
    now = timezone.now()
    rows: list[LabResult] = []
    made = 0
    for index in range(count):
        patient_id = patient_ids[index % len(patient_ids)]
        round_ = index // len(patient_ids)
        code, name, unit, low, high, typical = TESTS[round_ % len(TESTS)]
        visit = round_ // len(TESTS)
        collected = now - timedelta(days=30 * visit + rng.randint(0, 20), minutes=rng.randint(0, 600))
        number = Decimal(str(round(typical * rng.uniform(0.8, 1.25), 1)))
        released = rng.random() < 0.9
        rows.append(
            LabResult(
                patient_id=patient_id, created_by=author, created_at=collected, updated_at=collected,
                test_code=code, test_name=name, value=str(number), value_number=number, unit=unit,
                reference_low=low, reference_high=high, flag=flag_from_range(number, low, high) or "normal",
                collected_at=collected, resulted_at=collected + timedelta(hours=8),
                released_at=collected + timedelta(days=1) if released else None,
                released_by=author if released else None,
            )
        )  # fmt: skip
        if len(rows) >= BATCH:
            LabResult.objects.bulk_create(rows)
            made += len(rows)
            rows = []
    if rows:
        LabResult.objects.bulk_create(rows)
        made += len(rows)
    return made


def bench_document_key(patient_id: int) -> str:
    """The download key of a document of patient PATIENT_ID (one small PDF is added the first time)."""
    from careline.patients.models import Patient
    from careline.records.demo import demo_pdf
    from careline.records.services.documents import document_add

    found = Document.objects.filter(patient_id=patient_id, status="current").first()
    if found is None:
        author = User.objects.order_by("pk").first()
        assert author is not None
        found = document_add(
            patient=Patient.objects.get(pk=patient_id), title="Visit letter", upload=io.BytesIO(demo_pdf("Letter")),
            original_name="", size=None, actor=Actor.staff(author),
        )  # fmt: skip
    return found.download_key


def bench_released_result(patient_id: int) -> int:
    """The newest released result of patient PATIENT_ID (the one with the longest trend of its test)."""
    pk = (
        LabResult.objects.filter(patient_id=patient_id, released_at__isnull=False)
        .order_by("-resulted_at", "-id")
        .values_list("pk", flat=True)
        .first()
    )
    assert pk is not None, "the bench patient has released results"
    return pk
