"""How people get into the portal: invitations, one-time codes, bulk invitation jobs and attempt counters.

Secrets are never stored: an invitation keeps the SHA-256 of its link's random token, a code a keyed hash
of its six digits with a salt of its own row; both are compared with `hmac.compare_digest`. Counters for
rate limits live in the database (`PortalAttempt`), so every web process sees the same counts.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

# An invitation locks after this many wrong answers to "date of birth and last name".
INVITATION_MAX_FAILURES = 5
# A one-time code stops working after this many wrong tries.
CODE_MAX_TRIES = 5
# A bulk invitation job still waiting this long lost its task; one running without a sign of life this long
# lost its worker. The recovery sweep takes it over, at most BATCH_MAX_ATTEMPTS times in all.
BATCH_LOST_TASK_AFTER = timedelta(minutes=2)
BATCH_STALE_AFTER = timedelta(minutes=5)
BATCH_MAX_ATTEMPTS = 3


class ContactChannel(models.TextChoices):
    SMS = "sms", "Text message"
    EMAIL = "email", "Email"


class PortalInvitationBatch(models.Model):
    """Invitations sent to many patients at once (a filtered patient list), by a background task.

    Worked through `patient_ids` in chunks, each one transaction with its invitations, messages and counts;
    `processed` is the cursor. A running task shows it is alive by `heartbeat_at` (each chunk); every claim of
    the job (its own task, or the recovery sweep taking over a lost or dead one) adds one to `attempts`, and
    a worker whose attempt is no longer the job's stops. After BATCH_MAX_ATTEMPTS claims the sweep fails it.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Waiting"
        RUNNING = "running", "Sending"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    # The patients chosen when staff pressed the button (ids, never the search text: a name is patient data).
    patient_ids = models.JSONField(default=list)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0, help_text="Queued to go now")
    held = models.PositiveIntegerField(default=0, help_text="Held for quiet hours")
    suppressed = models.PositiveIntegerField(default=0, help_text="Not sent: opt-out, no consent, no contact")
    skipped = models.PositiveIntegerField(default=0, help_text="Already have an account")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="The running task's last sign of life (each chunk of patients)"
    )
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Times a task took the job: 1 is a run without interruption"
    )
    failure_reason = models.CharField(
        max_length=200, blank=True, help_text="Why the job stopped before the end (no patient data)"
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "heartbeat_at"], name="portal_batch_by_state")]

    def __str__(self) -> str:
        return f"Portal invitations #{self.pk} ({self.get_state_display()})"

    @property
    def percent(self) -> int:
        return int(100 * self.processed / self.total) if self.total else (100 if self.finished else 0)

    @property
    def finished(self) -> bool:
        return self.state in {self.State.DONE, self.State.FAILED}

    @property
    def resumed(self) -> bool:
        """Whether a task took the job over after an interruption (a worker stopped mid-way)."""
        return self.attempts > 1

    @property
    def interrupted(self) -> bool:
        """Unfinished with no sign of life for a while: the recovery sweep will resume it (or fail it)."""
        if self.finished:
            return False
        now = timezone.now()
        if self.state == self.State.PENDING:
            return self.created_at is not None and self.created_at < now - BATCH_LOST_TASK_AFTER
        # Running with no heartbeat: its worker gave the job up after an error (the sweep takes it at once).
        return self.heartbeat_at is None or self.heartbeat_at < now - BATCH_STALE_AFTER


class PortalInvitation(models.Model):
    """A single-use link inviting PATIENT to make their portal account; sent by text or email."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.CASCADE, related_name="portal_invitations"
    )
    channel = models.CharField(max_length=5, choices=ContactChannel.choices)
    token_hash = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the link's token")
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True, help_text="Replaced by a newer invitation")
    failed_checks = models.PositiveSmallIntegerField(default=0, help_text="Wrong birth date or last name")
    locked_at = models.DateTimeField(null=True, blank=True)
    message = models.ForeignKey(
        "messaging.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    batch = models.ForeignKey(
        PortalInvitationBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitations"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["patient", "-created_at"], name="portal_invitation_by_patient")]

    def __str__(self) -> str:
        return f"Portal invitation #{self.pk} for patient {self.patient_id}"

    @property
    def is_usable(self) -> bool:
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and self.locked_at is None
            and self.expires_at > timezone.now()
        )

    @property
    def status(self) -> str:
        if self.accepted_at is not None:
            return "accepted"
        if self.locked_at is not None:
            return "locked"
        if self.revoked_at is not None:
            return "replaced"
        if self.expires_at <= timezone.now():
            return "expired"
        return "invited"


class CodePurpose(models.TextChoices):
    SIGN_IN = "sign_in", "Sign in"
    SECOND_FACTOR = "second_factor", "Second step of signing in"
    RESET = "reset", "Password reset"
    CONTACT_CHANGE = "contact_change", "Confirm a new email or number"


class PortalCode(models.Model):
    """A six-digit code sent to CONTACT for PURPOSE: 10 minutes, single use, at most five tries."""

    account = models.ForeignKey(
        "portal.PortalAccount", null=True, blank=True, on_delete=models.CASCADE, related_name="codes"
    )
    contact = models.CharField(max_length=254, help_text="The email (lower-case) or E.164 number")
    purpose = models.CharField(max_length=20, choices=CodePurpose.choices)
    salt = models.CharField(max_length=32)
    code_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    tries = models.PositiveSmallIntegerField(default=0)
    message = models.ForeignKey(
        "messaging.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["contact", "purpose", "-created_at"], name="portal_code_by_contact")]

    def __str__(self) -> str:
        return f"Portal code #{self.pk} ({self.purpose})"


class AttemptKind(models.TextChoices):
    PASSWORD_NAME = "password_name", "Wrong password for a sign-in name"
    PASSWORD_ADDRESS = "password_address", "Wrong password from an address"
    CODE_SENT = "code_sent", "A code asked for, per contact"
    CODE_ADDRESS = "code_address", "A code asked for, per address"


class PortalAttempt(models.Model):
    """One counted event for a rate limit: KEY is a keyed hash of the name, number or address (never itself)."""

    kind = models.CharField(max_length=20, choices=AttemptKind.choices)
    key = models.CharField(max_length=64)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["kind", "key", "at"], name="portal_attempt_window")]

    def __str__(self) -> str:
        return f"{self.kind} at {self.at:%Y-%m-%d %H:%M}"


OPEN_INVITATION = Q(accepted_at__isnull=True, revoked_at__isnull=True, locked_at__isnull=True)
