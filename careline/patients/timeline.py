"""A patient's timeline, merged from sources other apps register, so `patients` never imports them.

An app adds its entries at start-up (in its AppConfig.ready):

    from careline.patients.timeline import TimelineEntry, register_timeline_source

    def appointment_entries(patient, user): return [TimelineEntry(at=..., kind="appointment", title=...)]
    register_timeline_source(appointment_entries)

A source returns at most the newest `limit`-ish entries it has and only what USER may see.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.urls import reverse

from careline.core.phones import format_phone
from careline.patients.models import Caregiver, ConsentEvent, Patient
from careline.patients.queries.notes import note_current_text, notes_visible_to

SOURCE_LIMIT = 50  # each source contributes at most this many of its newest entries


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened to or about a patient."""

    at: datetime
    kind: str
    title: str
    body: str = ""
    url: str = ""


TimelineSource = Callable[[Patient, Any], list[TimelineEntry]]

_sources: list[TimelineSource] = []


def register_timeline_source(fn: TimelineSource) -> TimelineSource:
    """Add FN(patient, user) -> list[TimelineEntry] to every patient's timeline (once; usable as a decorator)."""
    if fn not in _sources:
        _sources.append(fn)
    return fn


def unregister_timeline_source(fn: TimelineSource) -> None:
    """Remove FN (tests)."""
    if fn in _sources:
        _sources.remove(fn)


def patient_timeline(patient: Patient, user: Any, limit: int = 50) -> list[TimelineEntry]:
    """The newest LIMIT entries of every registered source, newest first."""
    entries: list[TimelineEntry] = []
    for source in list(_sources):
        entries.extend(source(patient, user))
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:limit]


@register_timeline_source
def note_entries(patient: Patient, user: Any) -> list[TimelineEntry]:
    """Care notes of the kinds USER may read, with their current text (latest amendment or original)."""
    notes = notes_visible_to(user, patient)[:SOURCE_LIMIT]
    return [
        TimelineEntry(
            at=note.created_at,
            kind="note",
            title=f"{note.get_kind_display()} note by {note.author}",
            body=note_current_text(note),
            url=reverse("patients:note_detail", args=[patient.pk, note.pk]),
        )
        for note in notes
    ]


@register_timeline_source
def consent_entries(patient: Patient, user: Any) -> list[TimelineEntry]:
    """Text-message consent given or revoked for the patient's numbers."""
    numbers = [phone.number for phone in patient.phones.all()]
    events = (
        ConsentEvent.objects.filter(patient=patient) | ConsentEvent.objects.filter(phone_number__in=numbers)
    ).order_by("-occurred_at", "-id")[:SOURCE_LIMIT]
    return [
        TimelineEntry(
            at=event.occurred_at,
            kind="consent",
            title=f"{event.get_kind_display()} for {format_phone(event.phone_number)}",
            body=event.get_method_display(),
        )
        for event in events
    ]


@register_timeline_source
def caregiver_entries(patient: Patient, user: Any) -> list[TimelineEntry]:
    """Caregivers added."""
    caregivers = Caregiver.objects.filter(patient=patient).order_by("-created_at")[:SOURCE_LIMIT]
    return [
        TimelineEntry(
            at=c.created_at, kind="caregiver", title=f"Caregiver added: {c.name} ({c.relationship})"
        )
        for c in caregivers
    ]


@register_timeline_source
def registration_entries(patient: Patient, user: Any) -> list[TimelineEntry]:
    """When the patient was registered."""
    return [TimelineEntry(at=patient.created_at, kind="registered", title="Registered")]
