"""The demo clinic's clinical records and lab results (called by careline/demo when it loads the clinic).

Each patient given gets allergies, medications, a problem, an immunization, a visit summary, a PDF letter and
lab results: an HbA1c over four visits (three released, the latest held for a clinician) and an LDL
(released). Rows are entered through the record services (so each has its history) but released directly:
loading the demo texts nobody.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from careline.core.actor import Actor
from careline.patients.models import Patient
from careline.records.models import (
    Allergy,
    Immunization,
    LabResult,
    Medication,
    Problem,
    RecordEntry,
    ReleasePolicy,
    ResultReleaseRule,
    VisitSummary,
)
from careline.records.services.documents import document_add
from careline.records.services.entries import record_add
from careline.records.services.results import result_values_derived

HBA1C_VALUES = ("7.8", "7.2", "6.6", "6.9")  # quarterly; the last one is held for the clinician


def demo_pdf(title: str) -> bytes:
    """A small, valid one-page PDF showing TITLE (offsets computed, so readers open it without repair)."""
    text = title.replace("\\", "").replace("(", "").replace(")", "")
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def _result(patient: Patient, actor: Actor, *, released: bool, when: datetime, **values: Any) -> LabResult:
    fields = {"collected_at": when, "resulted_at": when + timedelta(hours=6), "comment": "", **values}
    result = record_add(model=LabResult, patient=patient, values=result_values_derived(fields), actor=actor)
    if released:
        LabResult.objects.filter(pk=result.pk).update(
            released_at=when + timedelta(days=1), released_by=actor.user
        )
    return result


def records_seed_demo(
    *, patients: Sequence[Patient], clinicians: Sequence[Any], now: datetime
) -> dict[str, int]:
    """Records and results for PATIENTS, entered by CLINICIANS in turn, dated back from NOW; counts by kind."""
    ResultReleaseRule.objects.get_or_create(
        test_code="TSH",
        defaults={
            "policy": ReleasePolicy.DELAYED,
            "delay_hours": 24,
            "updated_by": clinicians[0],
            "updated_at": now,
        },
    )
    counts = {"record entries": 0, "documents": 0, "lab results": 0}
    for index, patient in enumerate(patients):
        clinician = clinicians[index % len(clinicians)]
        actor = Actor.staff(clinician)
        entries: list[tuple[type[RecordEntry], dict[str, Any]]] = [
            (Allergy, {"substance": "Penicillin", "reaction": "Hives", "severity": "moderate"}),
            (Medication, {"name": "Metformin", "dose": "500 mg", "instructions": "Twice a day with meals",
                          "start_date": (now - timedelta(days=365)).date()}),
            (Medication, {"name": "Lisinopril", "dose": "10 mg", "instructions": "Once a day",
                          "start_date": (now - timedelta(days=200)).date()}),
            (Problem, {"name": "Type 2 diabetes", "onset": (now - timedelta(days=400)).date()}),
            (Immunization, {"vaccine": "Influenza (seasonal)", "date_given": (now - timedelta(days=60)).date(),
                            "lot": f"FL{2000 + index}"}),
            (VisitSummary, {"visit_date": (now - timedelta(days=10)).date(), "clinician": clinician,
                            "summary": "Your blood sugar is improving. Keep taking metformin with meals and walk "
                                       "30 minutes a day. We will check your HbA1c again in three months."}),
        ]  # fmt: skip
        for model, values in entries:
            record_add(model=model, patient=patient, values=values, actor=actor)
            counts["record entries"] += 1
        document_add(
            patient=patient, title="Visit letter", upload=io.BytesIO(demo_pdf("Visit letter")),
            original_name="visit-letter.pdf", size=None, actor=actor,
        )  # fmt: skip
        counts["documents"] += 1
        hba1c = {"test_code": "HBA1C", "test_name": "Hemoglobin A1c", "unit": "%",
                 "reference_low": Decimal("4.0"), "reference_high": Decimal("5.6")}  # fmt: skip
        for visit, value in enumerate(HBA1C_VALUES):
            when = now - timedelta(days=90 * (len(HBA1C_VALUES) - visit) - 5)
            released = visit < len(HBA1C_VALUES) - 1
            _result(patient, actor, released=released, when=when, value=value, **hba1c)
        _result(
            patient, actor, released=True, when=now - timedelta(days=20), test_code="LDL",
            test_name="LDL cholesterol", value="96", unit="mg/dL", reference_high=Decimal("100"),
            comment="Your cholesterol is in the healthy range.",
        )  # fmt: skip
        counts["lab results"] += len(HBA1C_VALUES) + 1
    return counts
