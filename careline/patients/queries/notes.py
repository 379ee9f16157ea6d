"""Reads of care notes and alerts: what a person may see, current texts and the shift handoff list."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Prefetch, QuerySet

from careline.accounts.models import User
from careline.core.permissions import Perm, Role, has_perm
from careline.locations.models import Location
from careline.patients.models import CareNote, NoteAmendment, Patient, PatientAlert
from careline.patients.queries import note_kinds_visible_to, patients_visible_to

LATEST_AMENDMENTS = "latest_amendments"
HANDOFF_MAX_NOTES = 500
SHIFT_STARTS = (time(7), time(15), time(23))


def _with_current_text(notes: QuerySet[CareNote]) -> QuerySet[CareNote]:
    """NOTES with their latest amendment prefetched (one query for the whole list) as `latest_amendments`."""
    latest = NoteAmendment.objects.select_related("author").order_by("-created_at", "-id")[:1]
    return notes.prefetch_related(Prefetch("amendments", queryset=latest, to_attr=LATEST_AMENDMENTS))


def notes_visible_to(user: Any, patient: Patient) -> QuerySet[CareNote]:
    """PATIENT's notes of the kinds USER may read, newest first, ready to show their current text."""
    kinds = note_kinds_visible_to(user)
    if not kinds:
        return CareNote.objects.none()  # nothing to read: no query at all
    notes = CareNote.objects.filter(patient=patient, kind__in=kinds).select_related("author")
    return _with_current_text(notes).order_by("-created_at", "-id")


def recent_notes_for(user: Any, patient: Patient, *, limit: int = 5) -> list[CareNote]:
    """The newest LIMIT notes of PATIENT that USER may read (for the patient page's notes panel)."""
    return list(notes_visible_to(user, patient)[:limit])


def note_for_user(user: Any, patient: Patient, note_pk: int) -> CareNote | None:
    """Note NOTE_PK of PATIENT if USER may read its kind, else None."""
    return notes_visible_to(user, patient).filter(pk=note_pk).first()


def note_latest_amendment(note: CareNote) -> NoteAmendment | None:
    """NOTE's latest amendment, from the prefetch when there is one."""
    prefetched = note.__dict__.get(LATEST_AMENDMENTS)
    if prefetched is not None:
        return prefetched[0] if prefetched else None
    return note.amendments.select_related("author").order_by("-created_at", "-id").first()


def note_current_text(note: CareNote) -> str:
    """NOTE's text as it reads now: its latest amendment, or the original."""
    latest = note_latest_amendment(note)
    return latest.text if latest is not None else note.text


def note_history(note: CareNote) -> list[NoteAmendment]:
    """Every amendment of NOTE, oldest first, with its author."""
    return list(note.amendments.select_related("author").order_by("created_at", "id"))


def active_alerts(patient: Patient) -> list[PatientAlert]:
    """PATIENT's pinned alerts that have not been removed, oldest first."""
    return list(patient.alerts.filter(removed_at__isnull=True).order_by("created_at", "id"))


# --- shift handoff -----------------------------------------------------------------------------------


def handoff_locations(user: Any) -> QuerySet[Location]:
    """The locations whose handoff USER may read: every active one with PATIENT_VIEW_ALL_LOCATIONS."""
    if not has_perm(user, Perm.HANDOFF_VIEW):
        return Location.objects.none()
    locations = Location.objects.filter(is_active=True)
    if not has_perm(user, Perm.PATIENT_VIEW_ALL_LOCATIONS):
        locations = locations.filter(pk__in=user.location_ids)
    return locations.order_by("name")


def handoff_clinicians(user: Any) -> QuerySet[User]:
    """Active clinicians working at a location USER may read."""
    locations = handoff_locations(user)
    return (
        User.objects.filter(is_active=True, role_rows__role=Role.CLINICIAN, locations__in=locations)
        .distinct()
        .order_by("full_name")
    )


def previous_shift_start(now: datetime, zone: tzinfo) -> datetime:
    """Start of the shift before the current one, in UTC.

    Shifts run 07:00-15:00, 15:00-23:00 and 23:00-07:00 by the wall clock of ZONE. At 10:00 the current
    shift began at 07:00, so the previous one began at 23:00 the day before; at 02:00 the current shift
    began at 23:00 the day before and the previous one at 15:00 that day. Boundaries are wall-clock
    times, so on a daylight-saving change night the night shift lasts 7 or 9 hours.
    """
    local = now.astimezone(zone)
    day = local.date()
    # Wall-clock boundaries from two days back up to today, the newest first.
    boundaries = [
        datetime.combine(day - timedelta(days=back), start, tzinfo=zone)
        for back in (0, 1, 2)
        for start in reversed(SHIFT_STARTS)
    ]
    past = [boundary for boundary in boundaries if boundary <= local]
    # past[0] is the current shift's start; the previous shift started at the boundary before it.
    return past[1].astimezone(UTC)


def handoff_zone(*, location: Location | None = None, clinician: Any = None) -> tzinfo:
    """The zone shifts are counted in: the location's, else the clinician's first location's, else the site's."""
    if location is not None:
        return location.zone
    if clinician is not None:
        first = clinician.locations.order_by("name").first()
        if first is not None:
            return first.zone
    return ZoneInfo(settings.TIME_ZONE)


def handoff_notes(
    user: Any, *, since: datetime, location: Location | None = None, clinician: Any = None
) -> QuerySet[CareNote]:
    """Notes USER may read written since SINCE, for LOCATION or CLINICIAN's patients, newest first.

    Only patients USER may see are included, whatever the filter; a location USER may not read gives
    nothing. Each note comes with its patient, author and latest amendment (no query per row).
    """
    if not has_perm(user, Perm.HANDOFF_VIEW) or (location is None and clinician is None):
        return CareNote.objects.none()
    notes = CareNote.objects.filter(
        kind__in=note_kinds_visible_to(user),
        created_at__gte=since,
        patient__in=patients_visible_to(user),
    )
    if location is not None:
        if not handoff_locations(user).filter(pk=location.pk).exists():
            return CareNote.objects.none()
        notes = notes.filter(location=location)
    if clinician is not None:
        notes = notes.filter(patient__primary_clinician=clinician)
    notes = notes.select_related("patient", "patient__primary_location", "author", "location")
    return _with_current_text(notes).order_by("-created_at", "-id")
