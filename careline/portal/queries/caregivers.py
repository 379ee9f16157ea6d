"""Reads of who may open a patient's record in the portal: caregivers, their access and pending invitations."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone

from careline.patients.models import Caregiver, Patient
from careline.portal.models import PortalAccess, PortalGrantInvitation


@dataclass
class CaregiverAccessRow:
    """One active caregiver of a patient: their open portal access and pending invitation, if any."""

    caregiver: Caregiver
    access: PortalAccess | None = None
    invitation: PortalGrantInvitation | None = None
    sections: list[str] = field(default_factory=list)

    @property
    def has_access(self) -> bool:
        return self.access is not None or self.invitation is not None


def caregiver_access_rows(patient: Patient) -> list[CaregiverAccessRow]:
    """PATIENT's active caregivers, each with their current portal access and usable invitation (3 queries)."""
    now = timezone.now()
    rows = {c.pk: CaregiverAccessRow(caregiver=c) for c in patient.caregivers.filter(is_active=True)}
    accesses = (
        PortalAccess.objects.current(now)
        .filter(patient=patient, caregiver_id__in=list(rows))
        .select_related("permission_recorded_by")
        .order_by("pk")
    )
    for access in accesses:
        row = rows[access.caregiver_id]  # type: ignore[index]
        row.access = access
        row.sections = list(access.sections)
    invitations = (
        PortalGrantInvitation.objects.filter(
            patient=patient,
            caregiver_id__in=list(rows),
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=now,
        )
        .select_related("permission_recorded_by")
        .order_by("pk")
    )
    for invitation in invitations:
        row = rows[invitation.caregiver_id]
        row.invitation = invitation
        if row.access is None:
            row.sections = list(invitation.sections)
    return list(rows.values())
