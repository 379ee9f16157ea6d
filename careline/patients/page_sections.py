"""Sections of the staff patient page that features above patients register, so patients never imports them.

The patient page shows what patients owns (details, phones and consent, preferences, caregivers, notes,
timeline). A feature above it (records, the portal, billing) adds a card from its AppConfig.ready():

    from careline.patients.page_sections import patient_section_register

    def portal_access_context(user, patient) -> dict[str, Any] | None:
        if not has_perm(user, Perm.PATIENT_EDIT):
            return None  # nothing shown to this person
        return {"status": ..., "invite_url": ...}

    patient_section_register(code="portal", title="Patient portal", template="portal/_patient_section.html",
                             context=portal_access_context, order=20)

The context function runs on every render of the page: it checks its own permission first, reads only what
USER may see, in a query or two, and returns None to show nothing. Its template receives `section` (the
dict returned), `patient` and the page's context; the page's audit entry names the codes of the sections
shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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
class ShownSection:
    """A section ready to show: the registration and the dict its context function returned."""

    section: PatientSection
    values: dict[str, Any]

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
    """Add a card to every patient page. A code is a slug, registered once (the same function again is a
    no-op, so a repeated ready() is harmless); another function under a taken code is refused."""
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


def patient_sections_for(user: Any, patient: Patient) -> list[ShownSection]:
    """The sections USER is shown on PATIENT's page, each with its values, in order."""
    shown = []
    for section in sorted(_sections.values(), key=lambda s: (s.order, s.code)):
        values = section.context(user, patient)
        if values is not None:
            shown.append(ShownSection(section=section, values=values))
    return shown
