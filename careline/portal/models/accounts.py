"""Portal accounts: people who sign in to the patient portal, and whose records each may open.

A portal account is never a staff `User`: it has its own password hash, its own session keys
(`careline/portal/access.py`) and reaches no staff page. An account opens records through `PortalAccess`
rows: one for the patient's own record (no caregiver) and one per patient a caregiver was granted.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import models
from django.db.models import Q
from django.utils import timezone

from careline.core.languages import language_choices


class PortalSection(models.TextChoices):
    """The parts of a patient's record a caregiver may be granted one by one."""

    APPOINTMENTS = "appointments", "Appointments"
    MESSAGES = "messages", "Messages"
    BILLING = "billing", "Billing"
    RECORDS = "records", "Records"
    RESULTS = "results", "Results"
    CARE = "care", "Care program"


ALL_SECTIONS: tuple[str, ...] = tuple(PortalSection.values)


class PortalAccount(models.Model):
    """One person who signs in to the portal, by email or mobile number and a password."""

    email = models.EmailField(null=True, blank=True, unique=True, help_text="Stored lower-case")
    phone = models.CharField(max_length=20, null=True, blank=True, unique=True, help_text="E.164")
    password = models.CharField(
        max_length=128, blank=True, help_text="A Django password hash, never the password"
    )
    language = models.CharField(max_length=5, choices=language_choices, default="en")
    patient = models.OneToOneField(
        "patients.Patient",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="portal_account",
        help_text="The patient this account belongs to; empty for a caregiver's own account",
    )
    display_name = models.CharField(max_length=150, help_text="How the header greets the account")
    is_active = models.BooleanField(default=True)
    always_ask_code = models.BooleanField(
        default=False, help_text="Ask for a one-time code at every sign-in, even on a trusted device"
    )
    locked_at = models.DateTimeField(null=True, blank=True)
    # Raised by "sign out everywhere" (and a password change): sessions that carry an older one end.
    session_generation = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(email__isnull=False) | Q(phone__isnull=False), name="portal_account_has_contact"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    def set_password(self, raw_password: str) -> None:
        self.password = make_password(raw_password)

    def check_password(self, raw_password: str) -> bool:
        """Whether RAW_PASSWORD is this account's; timing-safe, and False for an account without one."""
        return bool(self.password) and check_password(raw_password, self.password)

    @property
    def can_sign_in(self) -> bool:
        return self.is_active and self.locked_at is None and bool(self.password)


class PortalAccessQuerySet(models.QuerySet["PortalAccess"]):
    def current(self, at: datetime | None = None) -> PortalAccessQuerySet:
        """Access neither revoked nor past its end at AT (now)."""
        at = at or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(Q(ends_at__isnull=True) | Q(ends_at__gt=at))


class PortalAccess(models.Model):
    """ACCOUNT may open PATIENT's record, the SECTIONS listed; as the patient or as their CAREGIVER."""

    account = models.ForeignKey(PortalAccount, on_delete=models.CASCADE, related_name="accesses")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="portal_accesses")
    caregiver = models.ForeignKey(
        "patients.Caregiver",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="portal_accesses",
        help_text="Empty when the account is the patient's own",
    )
    sections = models.JSONField(default=list, help_text="Codes of PortalSection this access opens")
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    granted_by = models.CharField(
        max_length=254, blank=True, help_text="Who granted it, as the audit trail names them"
    )
    # A caregiver's access granted by staff: the staff member who recorded the patient's permission, and when.
    permission_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    permission_recorded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PortalAccessQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "patient"],
                condition=Q(revoked_at__isnull=True),
                name="portal_access_one_open_per_account_and_patient",
            ),
        ]
        indexes = [models.Index(fields=["account", "revoked_at"], name="portal_access_by_account")]

    def __str__(self) -> str:
        return f"{self.account} -> patient {self.patient_id}"

    @property
    def is_own_record(self) -> bool:
        return self.caregiver_id is None

    def opens(self, section: str) -> bool:
        return section in self.sections
