"""Statements: what a patient (or the guarantor who pays for them) is asked to pay, as issued on one day.

A statement is a snapshot: its amount due and due date are fixed when it is issued, while the balance goes on
moving (`careline.billing.queries.patient_balance`). A newer statement supersedes the open one; a statement
issued in error is voided, never deleted.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q

from careline.billing.models.ledger import currency_field


class StatementState(models.TextChoices):
    ISSUED = "issued", "Issued"
    SUPERSEDED = "superseded", "Superseded by a newer statement"
    VOIDED = "voided", "Voided"


class StatementChannel(models.TextChoices):
    """How a statement reaches the person who pays it (the patient's billing preference, or why not)."""

    SMS = "sms", "Text message"
    EMAIL = "email", "Email"
    MAIL = "mail", "Mail"
    PORTAL = "portal", "Patient portal only"


class Statement(models.Model):
    """One statement of PATIENT's account, addressed to the patient or to GUARANTOR (a parent paying)."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="billing_statements"
    )
    # The person who receives and pays the statement when it is not the patient (a parent for a child).
    guarantor = models.ForeignKey(
        "patients.Patient",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="billing_statements_as_guarantor",
    )
    state = models.CharField(max_length=12, choices=StatementState.choices, default=StatementState.ISSUED)
    statement_date = models.DateField()
    due_date = models.DateField()
    amount_due_cents = models.BigIntegerField()
    currency = currency_field()
    # The channel it was sent by, and, when that is not the patient's preference, why (no billing consent).
    channel = models.CharField(max_length=10, choices=StatementChannel.choices)
    channel_reason = models.CharField(max_length=200, blank=True, default="")
    issued_at = models.DateTimeField()
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_due_cents__gte=0), name="billing_statement_amount_due_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(state__in=StatementState.values), name="billing_statement_state_known"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=StatementChannel.values), name="billing_statement_channel_known"
            ),
            models.CheckConstraint(
                condition=Q(due_date__gte=models.F("statement_date")),
                name="billing_statement_due_not_before_statement",
            ),
        ]
        indexes = [models.Index(fields=["patient", "state", "-issued_at"])]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        """The statement's number as printed on it and quoted on the phone ("S-000123")."""
        return f"S-{self.pk:06d}" if self.pk else "S-(new)"

    @property
    def payer_id(self) -> int:
        """The id of the patient record that receives and pays the statement."""
        return self.guarantor_id or self.patient_id


class StatementLineKind(models.TextChoices):
    CHARGE = "charge", "Charge"
    PAYMENT = "payment", "Payment"
    REFUND = "refund", "Refund"
    CREDIT = "credit", "Credit"
    WRITE_OFF = "write_off", "Write-off"


class StatementLine(models.Model):
    """One line of a statement, copied from the ledger when it was issued (the ledger may change later).

    AMOUNT_CENTS is the line's effect on what is due: a charge adds what the patient owes for it, a payment,
    credit or write-off takes off, a refund adds back. The lines of a statement sum to its net total."""

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="lines")
    # Whose item it is: a guarantor's statement combines the guarantor's own and their dependants' lines.
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=StatementLineKind.choices)
    visit = models.ForeignKey(
        "scheduling.Appointment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    charge = models.ForeignKey(
        "billing.Charge", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    line_date = models.DateField()
    service_code = models.CharField(max_length=20, blank=True, default="")
    description = models.CharField(max_length=200)
    charged_cents = models.BigIntegerField(default=0)
    insurance_paid_cents = models.BigIntegerField(default=0)
    insurance_adjusted_cents = models.BigIntegerField(default=0)
    amount_cents = models.BigIntegerField()
    currency = currency_field()

    class Meta:
        ordering = ["statement_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["statement", "position"], name="billing_statement_line_position"),
            models.CheckConstraint(
                condition=Q(kind__in=StatementLineKind.values), name="billing_statement_line_kind_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.statement_id}#{self.position} {self.kind}"


class StatementEventKind(models.TextChoices):
    ISSUED = "issued", "Issued"
    SENT = "sent", "Handed to its channel"
    MAILED = "mailed", "In the day's mail batch"
    PORTAL = "portal", "Shown in the portal"
    VIEWED = "viewed", "Viewed by the payer"
    LINK_RESENT = "link_resent", "Pay link sent again"
    SUPERSEDED = "superseded", "Superseded"
    VOIDED = "voided", "Voided"


class StatementEvent(models.Model):
    """One entry of a statement's history. A SENT entry names its message, whose state (delivered, failed,
    not sent and why) the history reads from the message itself."""

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=StatementEventKind.choices)
    at = models.DateTimeField()
    message = models.ForeignKey(
        "messaging.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who did it, as the audit trail names actors ("staff:12", "patient:3", "system:statements").
    actor = models.CharField(max_length=60, blank=True, default="")
    detail = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["statement", "at"])]

    def __str__(self) -> str:
        return f"{self.statement_id} {self.kind}"


class PayPageAttempt(models.Model):
    """A wrong date of birth typed on a pay page, counted per statement and per client address (keyed hash)."""

    key = models.CharField(max_length=64)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["key", "at"], name="billing_paypage_attempt_window")]

    def __str__(self) -> str:
        return f"Pay page attempt {self.pk}"


class StatementRunState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


# A run whose first task never came (lost), or whose workers all stopped (no chunk finished for a while), is
# taken over by the recovery sweep, at most RUN_MAX_ATTEMPTS times in all; then it fails with its reason.
RUN_LOST_TASK_AFTER = timedelta(minutes=2)
RUN_STALE_AFTER = timedelta(minutes=5)
RUN_MAX_ATTEMPTS = 3


class StatementRun(models.Model):
    """A bulk run "statements for every patient with a balance ready" (of one location, or all), worked in
    chunks of patient ids (StatementRunChunk) by several workers at once.

    ATTEMPTS counts the claims on the run (the start, then each takeover by the recovery sweep); a worker
    whose attempt is no longer the run's stops. HEARTBEAT_AT moves each time a chunk is committed. A patient
    already given a statement of STATEMENT_DATE is never given a second one."""

    state = models.CharField(
        max_length=10, choices=StatementRunState.choices, default=StatementRunState.QUEUED
    )
    statement_date = models.DateField()
    due_date = models.DateField(null=True, blank=True)  # None: STATEMENT_DATE + CARELINE_STATEMENT_DUE_DAYS
    location = models.ForeignKey(
        "locations.Location", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cursor = models.BigIntegerField(default=0)  # runs made before the chunk table (unused since)
    issued = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=1)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["state", "heartbeat_at"], name="billing_run_state_beat")]

    def __str__(self) -> str:
        return f"Statement run {self.pk} ({self.state})"


class StatementRunChunk(models.Model):
    """A range of patient ids of a run: claimed by one worker at a time (a row lock, SKIP LOCKED), done once.

    A worker that dies mid-chunk rolls back and releases the row: another takes the chunk from the start."""

    run = models.ForeignKey(StatementRun, on_delete=models.CASCADE, related_name="chunks")
    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField()
    done_at = models.DateTimeField(null=True, blank=True)
    issued = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)  # owing, but no visit ready
    already = models.PositiveIntegerField(default=0)  # a statement of the run's date already

    class Meta:
        ordering = ["run", "first_id"]
        constraints = [models.UniqueConstraint(fields=["run", "first_id"], name="billing_run_chunk_once")]
        indexes = [models.Index(fields=["run", "done_at"], name="billing_run_chunk_todo")]

    def __str__(self) -> str:
        return f"Statement run {self.run_id} chunk {self.first_id}-{self.last_id}"
