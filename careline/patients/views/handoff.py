"""The shift handoff page: every note since the start of the previous shift, for a location or a clinician."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from careline.core.actor import Actor
from careline.core.audit import audit_patients_record
from careline.core.models import AuditAction
from careline.core.permissions import Perm, require_perm
from careline.patients.forms.notes import HandoffForm
from careline.patients.models import CareNote
from careline.patients.queries.notes import (
    HANDOFF_MAX_NOTES,
    handoff_locations,
    handoff_notes,
    handoff_zone,
    previous_shift_start,
)


def _audit_handoff_reads(request: HttpRequest, notes: list[CareNote], detail: str) -> None:
    """One VIEW entry per patient shown, written in a single insert (a handoff may show dozens of patients)."""
    audit_patients_record(
        actor=Actor.from_request(request),
        action=AuditAction.VIEW,
        patient_ids=sorted({note.patient_id for note in notes}),
        detail=detail,
    )


@require_perm(Perm.HANDOFF_VIEW)
@require_http_methods(["GET"])
def handoff(request: HttpRequest) -> HttpResponse:
    """Notes since a time for one of the person's locations or a clinician's patients, newest first.

    Without a chosen time the page starts at the previous shift: shifts are 07:00-15:00, 15:00-23:00 and
    23:00-07:00 in the location's time zone, and the page shows notes from the start of the shift before
    the current one (see `previous_shift_start`), so whoever takes over sees the last two shifts.
    """
    form = HandoffForm(request.GET or None, user=request.user)
    location = clinician = None
    since_naive = None
    if form.is_bound and form.is_valid():
        location = form.cleaned_data["location"]
        clinician = form.cleaned_data["clinician"]
        since_naive = form.cleaned_data["since"]
    if location is None and clinician is None:
        # Nothing chosen (or a bad choice): the person's first location, so the page is useful at once.
        location = handoff_locations(request.user).first()
        form.fields["location"].initial = location
    zone = handoff_zone(location=location, clinician=clinician)
    default_since = previous_shift_start(timezone.now(), zone)
    since = since_naive.replace(tzinfo=zone) if since_naive is not None else default_since
    notes: list[CareNote] = []
    truncated = False
    if location is not None or clinician is not None:
        notes = list(
            handoff_notes(request.user, since=since, location=location, clinician=clinician)[
                : HANDOFF_MAX_NOTES + 1
            ]
        )
        truncated = len(notes) > HANDOFF_MAX_NOTES
        notes = notes[:HANDOFF_MAX_NOTES]
        scope = f"location {location.pk}" if location is not None else ""
        if clinician is not None:
            scope = f"{scope} clinician {clinician.pk}".strip()
        _audit_handoff_reads(request, notes, f"handoff: {scope} since {since.isoformat()}")
    context = {
        "form": form,
        "notes": notes,
        "truncated": truncated,
        "max_notes": HANDOFF_MAX_NOTES,
        "location": location,
        "clinician": clinician,
        "since": since,
        "default_since": default_since,
        "zone": zone,
        "nav": "handoff",
    }
    return render(request, "patients/handoff.html", context)
