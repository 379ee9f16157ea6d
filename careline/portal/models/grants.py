"""Caregiver grants waiting for the caregiver: the invitation link a patient (or staff) sent them.

A caregiver without a portal account is invited: the link carries a random token that is stored only as
its SHA-256 hash, works once and for `GRANT_INVITATION_HOURS`. Accepting it creates the caregiver's
account and the `PortalAccess` the grant describes (`careline/portal/services/caregivers.py`).
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

GRANT_INVITATION_HOURS = 72
# Wrong passwords given for an existing account before the invitation stops working.
GRANT_INVITATION_MAX_TRIES = 5


class PortalGrantInvitation(models.Model):
    """A pending grant of SECTIONS of PATIENT's record to CAREGIVER, until the caregiver accepts the link."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.CASCADE, related_name="portal_grant_invitations"
    )
    caregiver = models.ForeignKey(
        "patients.Caregiver", on_delete=models.CASCADE, related_name="portal_grant_invitations"
    )
    sections = models.JSONField(default=list, help_text="Codes of PortalSection the grant opens")
    access_ends_at = models.DateTimeField(null=True, blank=True, help_text="When the granted access ends")
    token_hash = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the link's token")
    sent_to = models.CharField(max_length=254, help_text="The caregiver's email or mobile number (E.164)")
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    failed_tries = models.PositiveSmallIntegerField(default=0)
    granted_by = models.CharField(
        max_length=254, blank=True, help_text="Who granted it, as the audit names them"
    )
    permission_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The staff member who recorded the patient's permission (a grant made by staff)",
    )
    permission_recorded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["patient", "caregiver"], name="portal_grant_invite_by_pair")]

    def __str__(self) -> str:
        return f"grant invitation for caregiver {self.caregiver_id} of patient {self.patient_id}"

    def usable(self, at: datetime | None = None) -> bool:
        """Neither used, withdrawn nor past its 72 hours at AT (now)."""
        at = at or timezone.now()
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > at
