"""Sections of the staff reports page that features above scheduling register (the portal's adoption figure),
so scheduling never imports them. Like the patient page's sections (careline/patients/page_sections.py):

    report_section_register(code="portal-adoption", title="Patient portal", template="portal/_report.html",
                            context=portal_adoption_context, order=10)

The context function gets the signed-in user and the locations the report covers (those the user chose or
may see), reads in a query or two, and returns a dict for its template (as `section`) or None to show nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.text import slugify

from careline.locations.models import Location

ReportContext = Callable[[Any, Sequence[Location]], "dict[str, Any] | None"]


@dataclass(frozen=True)
class ReportSection:
    """A registered section: its code (a unique slug), heading, template, context function and place."""

    code: str
    title: str
    template: str
    context: ReportContext
    order: int = 100


@dataclass(frozen=True)
class ShownReportSection:
    section: ReportSection
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


_sections: dict[str, ReportSection] = {}


def report_section_register(
    *, code: str, title: str, template: str, context: ReportContext, order: int = 100
) -> ReportSection:
    """Add a section to the reports page; the same registration again is a no-op, another under a taken
    code is refused."""
    if not code or slugify(code) != code:
        raise ValueError(f"report section code {code!r}: use a short slug")
    section = ReportSection(code=code, title=title, template=template, context=context, order=order)
    existing = _sections.get(code)
    if existing is not None and existing != section:
        raise ValueError(f"report section {code!r} is already registered by {existing.context.__module__}")
    _sections[code] = section
    return section


def report_section_unregister(code: str) -> None:
    """Remove the section CODE (tests)."""
    _sections.pop(code, None)


def report_sections_for(user: Any, locations: Sequence[Location]) -> list[ShownReportSection]:
    """The sections USER is shown for LOCATIONS, each with its values, in order."""
    shown = []
    for section in sorted(_sections.values(), key=lambda s: (s.order, s.code)):
        values = section.context(user, locations)
        if values is not None:
            shown.append(ShownReportSection(section=section, values=values))
    return shown
