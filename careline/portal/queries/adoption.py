"""The portal adoption figure for the staff reports page: invited, activated and active, per location."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from careline.locations.models import Location
from careline.portal.models import PortalAccount

ACTIVE_DAYS = 30


@dataclass(frozen=True)
class AdoptionRow:
    """A location's patients with a portal account: invited (any account), activated, active lately."""

    location: Location
    invited: int
    activated: int
    active: int


def portal_adoption(locations: Iterable[Location]) -> list[AdoptionRow]:
    """One row per location of LOCATIONS (by the patient's primary location), in one query.

    Invited: patients' own accounts created (an invitation makes the account; it activates when a password
    is set). Activated: those with a password. Active: signed in within the last 30 days."""
    chosen = list(locations)
    since = timezone.now() - timedelta(days=ACTIVE_DAYS)
    counts = {
        row["patient__primary_location"]: row
        for row in PortalAccount.objects.filter(patient__primary_location__in=chosen)
        .values("patient__primary_location")
        .annotate(
            invited=Count("pk"),
            activated=Count("pk", filter=~Q(password="")),
            active=Count("pk", filter=Q(last_sign_in_at__gte=since)),
        )
    }
    rows = []
    for location in chosen:
        found: Mapping[str, Any] = counts.get(location.pk) or {}
        rows.append(
            AdoptionRow(
                location=location,
                invited=found.get("invited", 0),
                activated=found.get("activated", 0),
                active=found.get("active", 0),
            )
        )
    return rows
