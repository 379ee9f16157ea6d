"""Collections: the follow-up sequence after a statement, payment plans, disputes and billing staff's tasks.

The sequence is configuration (`FollowUpStep`, seeded with the default: a reminder after 15 days, a second
channel after 30, a call task after 60, a review after 90). Issuing a statement plans one `FollowUp` per active
step; each is re-checked just before it acts (still owed, no plan, no dispute, not deceased) and stopped at once
by a full payment, a plan, a dispute or an opt-out.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from careline.billing.models.ledger import currency_field


class FollowUpAction(models.TextChoices):
    REMINDER = "reminder", "Reminder by the statement's channel"
    SECOND_CHANNEL = "second_channel", "Reminder by a second channel"
    CALL_TASK = "call_task", "Call task in the billing worklist"
    REVIEW = "review", "Flag for review"


class FollowUpStep(models.Model):
    """One step of the collections sequence: ACTION, DAYS_AFTER the statement was issued."""

    days_after = models.PositiveIntegerField()
    action = models.CharField(max_length=20, choices=FollowUpAction.choices)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["days_after", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=FollowUpAction.values), name="billing_followup_step_action_known"
            ),
            models.CheckConstraint(
                condition=Q(days_after__gte=1, days_after__lte=365),
                name="billing_followup_step_days_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Day {self.days_after}: {self.get_action_display()}"


class FollowUpState(models.TextChoices):
    PLANNED = "planned", "Planned"
    DONE = "done", "Done"
    STOPPED = "stopped", "Stopped"


class FollowUp(models.Model):
    """One planned step for one statement; it acts when due unless stopped first."""

    statement = models.ForeignKey("billing.Statement", on_delete=models.CASCADE, related_name="followups")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=20, choices=FollowUpAction.choices)
    days_after = models.PositiveIntegerField()
    due_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=FollowUpState.choices, default=FollowUpState.PLANNED)
    # Why it stopped ("paid in full", "payment plan", ...) or what it did ("text queued", "call task opened").
    outcome = models.CharField(max_length=200, blank=True, default="")
    message_id = models.BigIntegerField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["statement", "action", "days_after"], name="billing_followup_once"
            ),
            models.CheckConstraint(
                condition=Q(state__in=FollowUpState.values), name="billing_followup_state_known"
            ),
        ]
        indexes = [
            models.Index(fields=["state", "due_at"], name="billing_followup_due"),
            models.Index(fields=["patient", "state"], name="billing_followup_patient"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} for statement {self.statement_id}"


class Dispute(models.Model):
    """A patient disputes what they are billed: follow-ups stop until billing staff resolve it."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="billing_disputes")
    statement = models.ForeignKey(
        "billing.Statement", null=True, blank=True, on_delete=models.SET_NULL, related_name="disputes"
    )
    # Staff-only: what the patient says is wrong (never sent in a text).
    reason = models.CharField(max_length=500)
    opened_at = models.DateTimeField()
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution = models.CharField(max_length=500, blank=True, default="")
    # A card dispute reported by a payment provider ("stripe-dispute:<id>"); empty for one staff opened.
    provider_reference = models.CharField(max_length=60, blank=True, default="")

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"], condition=Q(resolved_at__isnull=True), name="billing_dispute_one_open"
            ),
        ]

    def __str__(self) -> str:
        return f"Dispute {self.pk}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class PlanState(models.TextChoices):
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Paid in full"
    CANCELLED = "cancelled", "Cancelled"


class PaymentPlan(models.Model):
    """A balance split into monthly instalments; while active, the collections sequence does not run."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="billing_plans")
    statement = models.ForeignKey("billing.Statement", on_delete=models.PROTECT, related_name="plans")
    total_cents = models.BigIntegerField()
    currency = currency_field()
    state = models.CharField(max_length=10, choices=PlanState.choices, default=PlanState.ACTIVE)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(total_cents__gt=0), name="billing_plan_total_positive"),
            models.CheckConstraint(condition=Q(state__in=PlanState.values), name="billing_plan_state_known"),
            models.UniqueConstraint(
                fields=["patient"], condition=Q(state="active"), name="billing_plan_one_active"
            ),
        ]

    def __str__(self) -> str:
        return f"Payment plan {self.pk}"


class InstalmentState(models.TextChoices):
    DUE = "due", "Due"
    PAID = "paid", "Paid"
    MISSED = "missed", "Missed"


class PlanInstalment(models.Model):
    """One monthly part of a plan; payments fill instalments in order (PAID_CENTS)."""

    plan = models.ForeignKey(PaymentPlan, on_delete=models.CASCADE, related_name="instalments")
    number = models.PositiveSmallIntegerField()
    due_date = models.DateField()
    amount_cents = models.BigIntegerField()
    paid_cents = models.BigIntegerField(default=0)
    currency = currency_field()
    state = models.CharField(max_length=10, choices=InstalmentState.choices, default=InstalmentState.DUE)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    missed_notice_sent_at = models.DateTimeField(null=True, blank=True)
    flagged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["plan_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="billing_instalment_number_once"),
            models.CheckConstraint(
                condition=Q(amount_cents__gt=0), name="billing_instalment_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(paid_cents__gte=0, paid_cents__lte=F("amount_cents")),
                name="billing_instalment_paid_within_amount",
            ),
        ]
        indexes = [models.Index(fields=["state", "due_date"], name="billing_instalment_due")]

    def __str__(self) -> str:
        return f"Instalment {self.number} of plan {self.plan_id}"

    @property
    def remaining_cents(self) -> int:
        return self.amount_cents - self.paid_cents


class TaskKind(models.TextChoices):
    CALL = "call", "Call the patient"
    REVIEW = "review", "Review the account"
    MISSED_INSTALMENT = "missed_instalment", "Missed plan instalment"
    FAILED_PAYMENT = "failed_payment", "Failed online payment"
    DISPUTE = "dispute", "Dispute"
    PLAN_REQUEST = "plan_request", "Asked for a payment plan"


class TaskState(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"


class BillingTask(models.Model):
    """Work for billing staff about one patient's account, on the billing worklist."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="billing_tasks")
    kind = models.CharField(max_length=20, choices=TaskKind.choices)
    state = models.CharField(max_length=10, choices=TaskState.choices, default=TaskState.OPEN)
    statement = models.ForeignKey(
        "billing.Statement", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    plan = models.ForeignKey(PaymentPlan, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(max_length=200, blank=True, default="")
    # What made it (a follow-up, an instalment): one open task per source, so a re-run opens no second task.
    source_key = models.CharField(max_length=60, blank=True, default="")

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=TaskKind.values), name="billing_task_kind_known"),
            models.CheckConstraint(condition=Q(state__in=TaskState.values), name="billing_task_state_known"),
            models.UniqueConstraint(
                fields=["source_key"], condition=~Q(source_key=""), name="billing_task_source_once"
            ),
        ]
        indexes = [models.Index(fields=["state", "kind", "created_at"], name="billing_task_open")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_state_display()})"


class BillingTaskNote(models.Model):
    """A note billing staff add to a task (staff-only)."""

    task = models.ForeignKey(BillingTask, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.CharField(max_length=1000)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Note on task {self.task_id}"
