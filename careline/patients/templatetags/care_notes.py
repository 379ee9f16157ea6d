"""Template helpers for care notes: a note's current text and the quick-add form of the notes panel."""

from __future__ import annotations

from typing import Any

from django import template

from careline.patients.forms.notes import NoteForm
from careline.patients.models import CareNote, NoteAmendment
from careline.patients.queries.notes import note_current_text, note_latest_amendment

register = template.Library()


@register.filter
def current_text(note: CareNote) -> str:
    """NOTE's text as it reads now (its latest amendment, or the original)."""
    return note_current_text(note)


@register.filter
def latest_amendment(note: CareNote) -> NoteAmendment | None:
    """NOTE's latest amendment, or None when it was never amended."""
    return note_latest_amendment(note)


@register.simple_tag(takes_context=True)
def note_add_form(context: template.Context) -> Any:
    """The form of the notes panel: the one with errors when re-rendered, else a fresh one for the person."""
    existing = context.get("note_form")
    if existing is not None:
        return existing
    request = context.get("request")
    return NoteForm(user=getattr(request, "user", None), auto_id="quicknote_%s")
