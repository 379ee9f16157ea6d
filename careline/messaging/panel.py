"""Sections of the inbox's patient panel that other features register, so messaging never imports them.

The panel beside an open conversation shows the patient messaging knows (name, birth date, MRN, alerts,
consent of the number, language, notes). A feature above messaging adds its own section from its
AppConfig.ready():

    from careline.messaging.panel import PanelContext, panel_section_register

    def visits_context(panel: PanelContext) -> dict[str, Any] | None:
        if not has_perm(panel.user, Perm.SCHEDULE_VIEW):
            return None  # nothing shown to this person
        return {"next": ..., "last": ...}

    panel_section_register(code="visits", title="Visits", template="scheduling/_panel_visits.html",
                           context=visits_context, order=10)

The context function is called once per render of the panel (and the page's audit entry names the sections
shown); it reads only what its USER may see and returns None to hide the section. Its template receives
`section` (the dict returned), `panel` (the PanelContext) and the page's context.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils.text import slugify

if TYPE_CHECKING:
    from careline.messaging.models import Conversation
    from careline.patients.models import Patient


@dataclass(frozen=True)
class PanelContext:
    """What a section is about: the person looking, the conversation's patient and the conversation."""

    user: Any
    patient: Patient
    conversation: Conversation


SectionContext = Callable[[PanelContext], "dict[str, Any] | None"]


@dataclass(frozen=True)
class PanelSection:
    """A registered section: its code (unique), heading, template, context function and place (low first)."""

    code: str
    title: str
    template: str
    context: SectionContext
    order: int = 100


@dataclass(frozen=True)
class RenderedSection:
    """A section ready to show: the registration and the dict its context function returned."""

    section: PanelSection
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


_sections: dict[str, PanelSection] = {}


def panel_section_register(
    *, code: str, title: str, template: str, context: SectionContext, order: int = 100
) -> PanelSection:
    """Add a section to every patient panel. A code is a slug, registered once (the same function again is
    a no-op, so a repeated ready() is harmless); another function under a taken code is refused."""
    if not code or slugify(code) != code:
        raise ValueError(f"panel section code {code!r}: use a short slug such as 'visits'")
    section = PanelSection(code=code, title=title, template=template, context=context, order=order)
    existing = _sections.get(code)
    if existing is not None and existing != section:
        raise ValueError(f"panel section {code!r} is already registered by {existing.context.__module__}")
    _sections[code] = section
    return section


def panel_section_unregister(code: str) -> None:
    """Remove the section CODE (tests)."""
    _sections.pop(code, None)


def panel_sections() -> list[PanelSection]:
    """The registered sections in their order."""
    return sorted(_sections.values(), key=lambda section: (section.order, section.code))


def panel_sections_for(panel: PanelContext) -> list[RenderedSection]:
    """The sections PANEL's user is shown, each with its values (sections returning None are left out)."""
    shown = []
    for section in panel_sections():
        values = section.context(panel)
        if values is not None:
            shown.append(RenderedSection(section=section, values=values))
    return shown
