"""The kinds of record entry staff add and amend: each one's model, names and URL segment."""

from __future__ import annotations

from dataclasses import dataclass

from careline.records.models import (
    Allergy,
    Document,
    Immunization,
    LabResult,
    Medication,
    Problem,
    RecordEntry,
    VisitSummary,
)


@dataclass(frozen=True)
class EntryKind:
    """A kind of entry: its code (the URL segment), its model, and what one and many are called."""

    code: str
    model: type[RecordEntry]
    noun: str
    plural: str
    kwarg: str  # the URL argument naming one entry ("allergy_pk")

    @property
    def url_name(self) -> str:
        """The route of one entry's page ("records:allergies")."""
        return "records:" + self.code.replace("-", "_")

    @property
    def add_url_name(self) -> str:
        """The route of the add page ("records:allergies_add")."""
        return self.url_name + "_add"


ENTRY_KINDS: dict[str, EntryKind] = {
    kind.code: kind
    for kind in (
        EntryKind("allergies", Allergy, "allergy", "Allergies", "allergy_pk"),
        EntryKind("medications", Medication, "medication", "Medications", "medication_pk"),
        EntryKind("problems", Problem, "problem", "Problems", "problem_pk"),
        EntryKind("immunizations", Immunization, "immunization", "Immunizations", "immunization_pk"),
        EntryKind("visit-summaries", VisitSummary, "visit summary", "Visit summaries", "summary_pk"),
    )
}
# Every model whose rows keep a revision history (the entries, documents and results).
HISTORY_MODELS: tuple[type[RecordEntry], ...] = (
    *(kind.model for kind in ENTRY_KINDS.values()),
    Document,
    LabResult,
)
