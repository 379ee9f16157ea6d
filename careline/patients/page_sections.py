"""Sections of the staff patient page (`patients/detail.html`) that features above patients register.

Patients never imports them: a feature registers from its AppConfig.ready():

    from careline.patients.page_sections import patient_section_register

    def records_context(user, patient) -> dict[str, Any] | None:
        if not has_perm(user, Perm.RECORD_VIEW):
            return None  # nothing shown to this person
        return {"allergies": 2, ...}

    patient_section_register(code="records", title="Records", template="records/_patient_section.html",
                             context=records_context, order=20)

The context function is called once per render of the page, reads only what USER may see (a query or two),
and returns None to hide the section. Its template receives `section` (the dict returned), `patient` and the
page's context. The page's audit entry names the sections shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils.text import slugify

if TYPE_CHECKING:
    from careline.patients.models import Patient

SectionContext = Callable[[Any, "Patient"], "dict[str, Any] | None"]


@dataclass(frozen=True)
class PatientSection:
    """A registered section: its code (unique), heading, template, context function and place (low first)."""

    code: str
    title: str
    template: str
    context: SectionContext
    order: int = 100


@dataclass(frozen=True)
class RenderedPatientSection:
    """A section ready to show: the registration and the dict its context function returned."""

    section: PatientSection
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def code(self) -> str:
        return self.section.code

    @property
    def title(self) -> str:
        return self.section.title

    @property
    def template(self) -> str:
        return self.section.template


_sections: dict[str, PatientSection] = {}


def patient_section_register(
    *, code: str, title: str, template: str, context: SectionContext, order: int = 100
) -> PatientSection:
    """Add a section to every staff patient page. A code is a slug, registered once (the same registration
    again is a no-op, so a repeated ready() is harmless); another function under a taken code is refused."""
    if not code or slugify(code) != code:
        raise ValueError(f"patient page section code {code!r}: use a short slug such as 'records'")
    section = PatientSection(code=code, title=title, template=template, context=context, order=order)
    existing = _sections.get(code)
    if existing is not None and existing != section:
        raise ValueError(
            f"patient page section {code!r} is already registered by {existing.context.__module__}"
        )
    _sections[code] = section
    return section


def patient_section_unregister(code: str) -> None:
    """Remove the section CODE (tests)."""
    _sections.pop(code, None)


def patient_sections() -> list[PatientSection]:
    """The registered sections in their order."""
    return sorted(_sections.values(), key=lambda section: (section.order, section.code))


def patient_sections_for(user: Any, patient: Patient) -> list[RenderedPatientSection]:
    """The sections USER is shown on PATIENT's page, each with its values (None-returning ones left out)."""
    shown = []
    for section in patient_sections():
        values = section.context(user, patient)
        if values is not None:
            shown.append(RenderedPatientSection(section=section, values=values))
    return shown
