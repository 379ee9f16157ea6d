"""Reads of the records app that staff pages, the patient page's section and the portal share.

The portal's reads (`records_for_patient`, `released_results_for_patient`, `result_trend`) leave out entries
entered in error and results not released; staff reads show everything with its status.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from careline.patients.models import Patient
from careline.records.kinds import ENTRY_KINDS
from careline.records.models import (
    ENTERED_IN_ERROR,
    Allergy,
    Document,
    Immunization,
    LabResult,
    Medication,
    Problem,
    RecordEntry,
    RecordRevision,
    ResultStatus,
    VisitSummary,
)
from careline.records.models.results import numeric_range_text

RESULTS_SHOWN = 200  # the newest results on the staff page; older ones are rare and still in the trend


@dataclass(frozen=True)
class PatientRecords:
    """A patient's record, kind by kind."""

    allergies: list[Allergy]
    medications: list[Medication]
    problems: list[Problem]
    immunizations: list[Immunization]
    visit_summaries: list[VisitSummary]
    documents: list[Document]

    def by_kind(self) -> list[tuple[str, list[Any]]]:
        """(kind code, entries) in the page's order, documents last."""
        return [
            ("allergies", self.allergies),
            ("medications", self.medications),
            ("problems", self.problems),
            ("immunizations", self.immunizations),
            ("visit-summaries", self.visit_summaries),
        ]


def _entries(model: type[RecordEntry], patient: Patient, *, with_errors: bool) -> QuerySet[Any]:
    queryset: QuerySet[Any] = model._default_manager.filter(patient=patient)
    if not with_errors:
        queryset = queryset.exclude(status=ENTERED_IN_ERROR)
    return queryset


def records_for_patient(patient: Patient, *, with_errors: bool = False) -> PatientRecords:
    """PATIENT's allergies, medications, problems, immunizations, visit summaries and documents (six queries).

    Without WITH_ERRORS (the portal), entries marked entered in error are left out.
    """
    return PatientRecords(
        allergies=list(_entries(Allergy, patient, with_errors=with_errors)),
        medications=list(_entries(Medication, patient, with_errors=with_errors)),
        problems=list(_entries(Problem, patient, with_errors=with_errors)),
        immunizations=list(_entries(Immunization, patient, with_errors=with_errors)),
        visit_summaries=list(
            _entries(VisitSummary, patient, with_errors=with_errors).select_related("clinician")
        ),
        documents=list(_entries(Document, patient, with_errors=with_errors)),
    )


def released_results_for_patient(patient: Patient) -> QuerySet[LabResult]:
    """PATIENT's released results (not those entered in error), newest first."""
    return LabResult.objects.filter(
        patient=patient, released_at__isnull=False, status=ResultStatus.FINAL
    ).order_by("-resulted_at", "-id")


def results_for_staff(patient: Patient, *, limit: int = RESULTS_SHOWN) -> list[LabResult]:
    """PATIENT's results for the staff page (released or not, any status), newest first, with who released."""
    return list(
        LabResult.objects.filter(patient=patient)
        .select_related("released_by")
        .order_by("-resulted_at", "-id")[:limit]
    )


@dataclass(frozen=True)
class TrendPoint:
    """One released value of a test: when it was collected, the number, and its reference range then."""

    result_id: int
    collected_at: datetime
    value: str
    number: Decimal | None
    unit: str
    low: Decimal | None
    high: Decimal | None
    flag: str

    @property
    def reference_range(self) -> str:
        """The numeric range as shown ("4–5.6", "≤ 100"); empty without one."""
        return numeric_range_text(self.low, self.high)


def result_trend(patient: Patient, test_code: str) -> list[TrendPoint]:
    """PATIENT's released values of TEST_CODE, oldest first, each with the reference range it had."""
    rows = (
        released_results_for_patient(patient)
        .filter(test_code=test_code)
        .order_by("collected_at", "id")
        .values_list(
            "pk", "collected_at", "value", "value_number", "unit", "reference_low", "reference_high", "flag"
        )
    )
    return [TrendPoint(*row) for row in rows]


def record_counts(patient: Patient) -> dict[str, int]:
    """How many current entries of each kind PATIENT has, and results waiting for release (one query)."""

    def count(model: type[Any], extra: Q | None = None) -> Coalesce:
        queryset = model.objects.filter(patient=OuterRef("pk")).exclude(status=ENTERED_IN_ERROR)
        if extra is not None:
            queryset = queryset.filter(extra)
        subquery = queryset.order_by().values("patient").annotate(n=Count("pk")).values("n")
        return Coalesce(Subquery(subquery, output_field=IntegerField()), Value(0))

    fields = {
        "allergies": count(Allergy),
        "medications": count(Medication, Q(status="active")),
        "problems": count(Problem, Q(status="active")),
        "immunizations": count(Immunization),
        "visit_summaries": count(VisitSummary),
        "documents": count(Document),
        "results": count(LabResult),
        "unreleased": count(LabResult, Q(released_at__isnull=True)),
    }
    row = Patient.objects.filter(pk=patient.pk).annotate(**fields).values(*fields).get()
    return dict(row)


def entry_history(entry: RecordEntry) -> list[RecordRevision]:
    """Every version of ENTRY, the first (as entered) first, with its author."""
    return list(
        RecordRevision.objects.filter(entry_type=entry._meta.label_lower, entry_id=entry.pk)
        .select_related("author")
        .order_by("version")
    )


def entry_kind_model(code: str) -> type[RecordEntry]:
    """The model of the entry kind CODE (KeyError for an unknown one)."""
    return ENTRY_KINDS[code].model
