"""Reads of the on-call rota and pages: who is on call at a moment, a window's shifts, gaps and overlaps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from careline.core.permissions import Perm, has_perm
from careline.locations.models import Location
from careline.oncall.models import OnCallShift, Page


def on_call_now(location: Location | int, at: datetime | None = None) -> OnCallShift | None:
    """The shift covering LOCATION at AT (now by default): starts_at <= AT < ends_at.

    When shifts overlap (a handover), the one that started last answers; None when nobody is on call.
    """
    at = at or timezone.now()
    location_id = location if isinstance(location, int) else location.pk
    return (
        OnCallShift.objects.filter(location_id=location_id, starts_at__lte=at, ends_at__gt=at)
        .select_related("clinician", "backup", "location")
        .order_by("-starts_at", "-pk")
        .first()
    )


def someone_on_call(location_id: int) -> bool:
    """Whether a shift covers LOCATION_ID now (messaging's urgent-text answer asks this)."""
    return on_call_now(location_id) is not None


@dataclass(frozen=True)
class Span:
    """A stretch of time [starts_at, ends_at) in a rota window: nobody on call, or several at once."""

    starts_at: datetime
    ends_at: datetime


@dataclass
class RotaWindow:
    """A location's shifts touching [starts_at, ends_at), and the stretches with nobody or with several."""

    location: Location
    starts_at: datetime
    ends_at: datetime
    shifts: list[OnCallShift]
    gaps: list[Span]
    overlaps: list[Span]


def rota_window(location: Location, starts_at: datetime, ends_at: datetime) -> RotaWindow:
    """The rota of LOCATION between STARTS_AT and ENDS_AT (aware), with its gaps and overlaps (clipped)."""
    shifts = list(
        OnCallShift.objects.filter(location=location, starts_at__lt=ends_at, ends_at__gt=starts_at)
        .select_related("clinician", "backup")
        .order_by("starts_at", "pk")
    )
    # A sweep over the shifts' edges: +1 where one starts, -1 where one ends (ends first at the same instant).
    edges: list[tuple[datetime, int]] = [(starts_at, 0), (ends_at, 0)]
    for shift in shifts:
        edges.append((max(shift.starts_at, starts_at), 1))
        edges.append((min(shift.ends_at, ends_at), -1))
    edges.sort(key=lambda edge: (edge[0], edge[1]))
    gaps: list[Span] = []
    overlaps: list[Span] = []
    depth = 0
    previous = starts_at
    for moment, change in edges:
        if moment > previous:
            if depth == 0:
                _extend(gaps, previous, moment)
            elif depth > 1:
                _extend(overlaps, previous, moment)
            previous = moment
        depth += change
    return RotaWindow(location, starts_at, ends_at, shifts, gaps, overlaps)


def _extend(spans: list[Span], starts_at: datetime, ends_at: datetime) -> None:
    if spans and spans[-1].ends_at == starts_at:
        spans[-1] = Span(spans[-1].starts_at, ends_at)
    else:
        spans.append(Span(starts_at, ends_at))


def rota_locations_for(user: Any) -> QuerySet[Location]:
    """Active locations whose rota USER may see: every one with PATIENT_VIEW_ALL_LOCATIONS, else their own."""
    if not has_perm(user, Perm.ONCALL_VIEW):
        return Location.objects.none()
    locations = Location.objects.filter(is_active=True)
    if has_perm(user, Perm.PATIENT_VIEW_ALL_LOCATIONS):
        return locations
    return locations.filter(pk__in=user.location_ids)


def shift_for_user(user: Any, pk: int) -> OnCallShift | None:
    """Shift PK when USER may see its location's rota; None otherwise (a 404 for the view)."""
    return (
        OnCallShift.objects.filter(pk=pk, location__in=rota_locations_for(user))
        .select_related("location", "clinician", "backup")
        .first()
    )


def pages_visible_to(user: Any) -> QuerySet[Page]:
    """Pages at the locations whose rota USER may see, newest first."""
    return Page.objects.filter(location__in=rota_locations_for(user)).select_related(
        "location", "clinician", "backup", "acknowledged_by"
    )


def page_for_user(user: Any, pk: int) -> Page | None:
    """Page PK when USER may see it; None otherwise."""
    return pages_visible_to(user).filter(pk=pk).first()


def on_call_candidates(location: Location) -> QuerySet[Any]:
    """Active staff of LOCATION who may be put on call (clinicians and administrators)."""
    from careline.accounts.models import User
    from careline.core.permissions import Role

    return (
        User.objects.filter(
            is_active=True, locations=location, role_rows__role__in=[Role.CLINICIAN, Role.ADMIN]
        )
        .distinct()
        .order_by("full_name")
    )
