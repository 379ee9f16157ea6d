"""The on-call rota (who answers for a location after hours, and their backup) and the pages sent to them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class OnCallShift(models.Model):
    """One stretch of on-call duty at a location: from `starts_at` up to (not including) `ends_at`, in UTC.

    Administrators enter the times on the location's clock; overlapping shifts are allowed (a handover) and
    the one that started last answers (`careline.oncall.queries.on_call_now`).
    """

    location = models.ForeignKey(
        "locations.Location", on_delete=models.CASCADE, related_name="on_call_shifts"
    )
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    backup = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Paged when the clinician does not acknowledge in time",
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["location", "starts_at", "pk"]
        indexes = [
            models.Index(fields=["location", "starts_at", "ends_at"], name="oncall_shift_location_time")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="oncall_shift_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(backup__isnull=True) | ~Q(backup=F("clinician")),
                name="oncall_shift_backup_not_clinician",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.clinician} on call at {self.location} from {self.starts_at:%Y-%m-%d %H:%M} UTC"


class PageState(models.TextChoices):
    PAGED = "paged", "Waiting for the on-call clinician"
    ESCALATED = "escalated", "Sent to the backup"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    UNCOVERED = "uncovered", "Nobody was on call: administrators told"


class Page(models.Model):
    """A call for the on-call clinician: why (a short kind), where to look (a staff link), who was told.

    Holds no patient detail: the link needs sign-in and shows the patient only to those who may see them.
    """

    location = models.ForeignKey("locations.Location", on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=40, help_text="A short kind: urgent-text, critical-reading ...")
    link_path = models.CharField(max_length=300, help_text="A staff page of Careline, e.g. /inbox/12")
    shift = models.ForeignKey(OnCallShift, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    backup = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=12, choices=PageState.choices, default=PageState.PAGED)
    created_at = models.DateTimeField()
    # When the backup is paged unless someone acknowledged by then; None once nothing more is due.
    escalate_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by = models.CharField(max_length=80, blank=True, help_text="Who or what asked for the page")

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["state", "escalate_at"], name="oncall_page_due"),
            models.Index(fields=["location", "-created_at"], name="oncall_page_location"),
        ]

    def __str__(self) -> str:
        return f"Page {self.pk} ({self.reason}) at {self.location}"

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None


class NoticeMedium(models.TextChoices):
    SMS = "sms", "Text"
    EMAIL = "email", "Email"


class NoticeState(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class PageNotice(models.Model):
    """One text or email to a member of staff about a page: a row before it leaves, claimed to send once.

    Staff notices are not patient messages: they never enter a conversation, the consent ledger or quiet
    hours (a page at 03:00 must go at 03:00).
    """

    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="notices")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    medium = models.CharField(max_length=5, choices=NoticeMedium.choices)
    to_address = models.CharField(max_length=254)
    subject = models.CharField(max_length=150, blank=True)
    body = models.TextField()
    # "clinician", "backup" or "administrator": why this person was told.
    role = models.CharField(max_length=30)
    state = models.CharField(max_length=8, choices=NoticeState.choices, default=NoticeState.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    due_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_id = models.CharField(max_length=100, blank=True)
    error = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["page", "pk"]
        indexes = [models.Index(fields=["state", "due_at"], name="oncall_notice_due")]
        constraints = [
            models.UniqueConstraint(
                fields=["page", "recipient", "medium", "role"], name="oncall_notice_once_per_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_medium_display()} to {self.recipient} about page {self.page_id}"
