"""The Records section of the staff patient page (registered with patients' page-section registry)."""

from __future__ import annotations

from typing import Any

from careline.core.permissions import Perm, has_perm
from careline.patients.models import Patient
from careline.patients.page_sections import patient_section_register
from careline.records.queries import record_counts


def records_section_context(user: Any, patient: Patient) -> dict[str, Any] | None:
    """Counts and a link to the record, for those who may read clinical records (one query); None otherwise."""
    if not has_perm(user, Perm.RECORD_VIEW):
        return None
    return {"counts": record_counts(patient)}


def records_section_register() -> None:
    """Show the Records section on the patient page (from RecordsConfig.ready)."""
    patient_section_register(
        code="records",
        title="Clinical record",
        template="records/_patient_section.html",
        context=records_section_context,
        order=20,
    )
