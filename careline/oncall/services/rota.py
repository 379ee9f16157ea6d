"""Editing the on-call rota: shifts entered on the location's clock, stored in UTC; every change audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.core.permissions import Perm, has_perm
from careline.locations.models import Location
from careline.oncall.models import OnCallShift

MAX_SHIFT = timedelta(days=14)  # longer is a typo (a wrong month), not a shift


def local_instant(naive: datetime, zone: ZoneInfo) -> datetime:
    """NAIVE read on ZONE's clock as an aware instant (UTC).

    A time the clock skips (02:30 on the night clocks go forward) is refused with a clear message; a time the
    clock shows twice (01:30 on the night clocks go back) is the first one.
    """
    aware = naive.replace(tzinfo=zone, fold=0)
    back = aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if back != naive.replace(tzinfo=None, fold=0):
        raise ValidationError(
            "%(time)s does not exist in %(zone)s (the clocks go forward then). Choose a time before or after.",
            params={"time": naive.strftime("%Y-%m-%d %H:%M"), "zone": zone.key},
            code="nonexistent",
        )
    return aware.astimezone(UTC)


def _check(
    *, location: Location, clinician: Any, backup: Any | None, starts_at: datetime, ends_at: datetime
) -> None:
    errors: dict[str, str] = {}
    if ends_at <= starts_at:
        errors["ends_at"] = "The shift must end after it starts."
    elif ends_at - starts_at > MAX_SHIFT:
        errors["ends_at"] = "A shift may last at most 14 days; add several for longer."
    for field, person in (("clinician", clinician), ("backup", backup)):
        if person is None:
            continue
        if not person.is_active or location.pk not in person.location_ids:
            errors[field] = f"{person} does not work at {location}."
        elif not has_perm(person, Perm.ONCALL_ACKNOWLEDGE):
            errors[field] = f"{person} cannot answer on-call pages (a clinician or administrator can)."
    if backup is not None and clinician is not None and backup.pk == clinician.pk:
        errors["backup"] = "The backup must be someone else."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def shift_save(
    *,
    location: Location,
    clinician: Any,
    backup: Any | None,
    starts_at: datetime,
    ends_at: datetime,
    actor: Actor,
    shift: OnCallShift | None = None,
) -> OnCallShift:
    """Create a shift (or change SHIFT) at LOCATION; ValidationError by field, nothing changed, when wrong."""
    _check(location=location, clinician=clinician, backup=backup, starts_at=starts_at, ends_at=ends_at)
    created = shift is None
    if shift is None:
        shift = OnCallShift(location=location, created_by=actor.user)
    shift.location = location
    shift.clinician = clinician
    shift.backup = backup
    shift.starts_at = starts_at
    shift.ends_at = ends_at
    shift.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        obj=shift,
        detail=(
            f"on-call shift at {location}: {clinician} (backup {backup or 'none'}), "
            f"{starts_at:%Y-%m-%d %H:%M}–{ends_at:%Y-%m-%d %H:%M} UTC"
        ),
    )
    return shift


@transaction.atomic
def shift_delete(*, shift: OnCallShift, actor: Actor) -> None:
    """Remove SHIFT from the rota; audited."""
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=shift,
        detail=f"on-call shift at {shift.location} removed ({shift.clinician}, {shift.starts_at:%Y-%m-%d %H:%M} UTC)",
    )
    shift.delete()
