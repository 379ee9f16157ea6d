"""Rows the on-call tests share: a shift at location A for the clinician, with a backup."""

from __future__ import annotations

from datetime import datetime

from careline.accounts.models import User
from careline.core.permissions import Role
from careline.locations.models import Location
from careline.oncall.models import OnCallShift
from careline.testing.personas import Personas, make_staff


def backup_clinician(personas: Personas) -> User:
    user = make_staff("backup.a@example.test", "Bailey Backup", [Role.CLINICIAN], [personas.location_a])
    user.mobile = "+13125550177"
    user.save(update_fields=["mobile"])
    return user


def shift(
    location: Location, clinician: User, starts_at: datetime, ends_at: datetime, backup: User | None = None
) -> OnCallShift:
    return OnCallShift.objects.create(
        location=location, clinician=clinician, backup=backup, starts_at=starts_at, ends_at=ends_at
    )
