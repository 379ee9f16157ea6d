"""The portal adoption figure for the staff reports page: invited, activated and active, per location."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from careline.locations.models import Location
from careline.patients.models import Patient

ACTIVE_DAYS = 30


@dataclass(frozen=True)
class AdoptionRow:
    """A location's patients on the portal: invited (an invitation or an account), activated, active lately."""

    location: Location
    invited: int
    activated: int
    active: int


def portal_adoption(locations: Iterable[Location]) -> list[AdoptionRow]:
    """One row per location of LOCATIONS (by the patient's primary location), in one query.

    Invited: patients sent a portal invitation or with an account of their own. Activated: those whose
    account has a password. Active: signed in within the last 30 days."""
    chosen = list(locations)
    since = timezone.now() - timedelta(days=ACTIVE_DAYS)
    counts = {
        row["primary_location"]: row
        for row in Patient.objects.filter(primary_location__in=chosen)
        .filter(Q(portal_account__isnull=False) | Q(portal_invitations__isnull=False))
        .values("primary_location")
        .annotate(
            invited=Count("pk", distinct=True),
            activated=Count("portal_account", filter=~Q(portal_account__password=""), distinct=True),
            active=Count(
                "portal_account", filter=Q(portal_account__last_sign_in_at__gte=since), distinct=True
            ),
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
