"""Tables of the records app."""

from careline.records.models.documents import Document, DocumentStatus
from careline.records.models.entries import (
    ENTERED_IN_ERROR,
    Allergy,
    AllergySeverity,
    AllergyStatus,
    Immunization,
    ImmunizationStatus,
    Medication,
    MedicationStatus,
    Problem,
    ProblemStatus,
    RecordEntry,
    RecordRevision,
    VisitSummary,
    VisitSummaryStatus,
)
from careline.records.models.results import (
    LabResult,
    ReleasePolicy,
    ResultFlag,
    ResultReleaseRule,
    ResultStatus,
    flag_from_range,
)

__all__ = [
    "ENTERED_IN_ERROR",
    "Allergy",
    "AllergySeverity",
    "AllergyStatus",
    "Document",
    "DocumentStatus",
    "Immunization",
    "ImmunizationStatus",
    "LabResult",
    "Medication",
    "MedicationStatus",
    "Problem",
    "ProblemStatus",
    "RecordEntry",
    "RecordRevision",
    "ReleasePolicy",
    "ResultFlag",
    "ResultReleaseRule",
    "ResultStatus",
    "VisitSummary",
    "VisitSummaryStatus",
    "flag_from_range",
]
