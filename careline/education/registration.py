"""What education registers with the apps below it at start-up (from EducationConfig.ready)."""

from __future__ import annotations

from typing import Any

from careline.core.permissions import Perm, has_perm
from careline.patients.models import Patient


def education_section_context(user: Any, patient: Patient) -> dict[str, Any] | None:
    """The patient page's Education card: the latest sends and their opens (one query)."""
    from careline.education.queries import sends_of_patient

    if not has_perm(user, Perm.EDUCATION_SEND):
        return None
    return {"sends": sends_of_patient(patient.pk, limit=5)}


def education_register() -> None:
    """The patient page's card and the audit trail's names."""
    from careline.core.queries.audit_lines import register_audit_object
    from careline.patients.page_sections import patient_section_register

    patient_section_register(
        code="education",
        title="Education",
        template="education/_patient_section.html",
        context=education_section_context,
        order=27,
    )
    register_audit_object("education.educationitem", noun="education item")
    register_audit_object("education.educationsend", noun="education item sent")
    register_audit_object("education.programitem", noun="care program education item")
