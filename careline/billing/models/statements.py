"""Statements: what a patient (or the guarantor who pays for them) is asked to pay, as issued on one day.

A statement is a snapshot: its amount due and due date are fixed when it is issued, while the balance goes on
moving (`careline.billing.queries.patient_balance`). A newer statement supersedes the open one; a statement
issued in error is voided, never deleted.
"""

from __future__ import annotations

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
