"""Writes about locations: details and the weekly opening hours, audited."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from typing import Any

from django.db import transaction

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.locations.models import Location, OpeningHours

Period = tuple[time, time]
# The location fields staff edit on the location form.
DETAIL_FIELDS = (
    "name",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "country",
    "phone",
    "time_zone",
    "directions",
    "is_active",
)


def location_hours(location: Location) -> dict[int, list[Period]]:
    """The weekly opening periods of LOCATION by weekday (0 = Monday), sorted."""
    hours: dict[int, list[Period]] = {}
    for period in location.opening_hours.order_by("weekday", "opens"):
        hours.setdefault(period.weekday, []).append((period.opens, period.closes))
    return hours


def _replace_hours(location: Location, hours: Mapping[int, list[Period]]) -> bool:
    before = location_hours(location)
    wanted = {day: sorted(periods) for day, periods in hours.items() if periods}
    if before == wanted:
        return False
    location.opening_hours.all().delete()
    OpeningHours.objects.bulk_create(
        OpeningHours(location=location, weekday=day, opens=opens, closes=closes)
        for day, periods in sorted(wanted.items())
        for opens, closes in periods
    )
    return True


@transaction.atomic
def location_create(
    *,
    details: Mapping[str, Any],
    hours: Mapping[int, list[Period]],
    actor: Actor,
) -> Location:
    """Create a location with its opening hours (input already validated)."""
    location = Location(**{field: details[field] for field in DETAIL_FIELDS if field in details})
    location.full_clean()
    location.save()
    _replace_hours(location, hours)
    audit_record(
        actor=actor,
        action=AuditAction.ADMIN,
        obj=location,
        detail="location created",
    )
    return location


@transaction.atomic
def location_update(
    *,
    location: Location,
    details: Mapping[str, Any],
    hours: Mapping[int, list[Period]],
    actor: Actor,
) -> Location:
    """Change a location's details and opening hours; the audit entry names what changed."""
    changed = [
        field for field in DETAIL_FIELDS if field in details and getattr(location, field) != details[field]
    ]
    for field in changed:
        setattr(location, field, details[field])
    location.full_clean()
    location.save()
    if _replace_hours(location, hours):
        changed.append("opening hours")
    if changed:
        audit_record(
            actor=actor,
            action=AuditAction.ADMIN,
            obj=location,
            detail=", ".join(changed),
        )
    return location
