"""Money the patient paid or got back, and what the clinic forgave: payments, refunds and balance adjustments."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from careline.billing.models.ledger import currency_field


class PaymentMethod(models.TextChoices):
    CASH = "cash", "Cash"
    CHECK = "check", "Check"
    CARD_TERMINAL = "card_terminal", "Card terminal"
    ONLINE = "online", "Online"


# Methods staff record at the desk (an online payment comes from a payment provider).
DESK_METHODS = (PaymentMethod.CASH, PaymentMethod.CHECK, PaymentMethod.CARD_TERMINAL)


class OverpaymentOutcome(models.TextChoices):
    REFUNDED = "refunded", "Refunded"
    CREDIT = "credit", "Kept as credit"


class Payment(models.Model):
    """Money received from (or for) a patient; always more than zero."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="billing_payments")
    amount_cents = models.BigIntegerField()
    currency = currency_field()
    method = models.CharField(max_length=20, choices=PaymentMethod.choices)
    # What staff wrote down at the desk: a check number, the terminal's receipt number.
    reference = models.CharField(max_length=60, blank=True, default="")
    # The payment provider that processed it and its id there: unique when present, so a provider's event
    # delivered twice records one payment.
    provider = models.CharField(max_length=30, blank=True, default="")
    provider_reference = models.CharField(max_length=120, blank=True, default="")
    received_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # How much of it was more than the balance due when it arrived: money a provider had already taken is
    # never refused, so the patient is left in credit and billing staff see the flag (refund or keep).
    overpayment_cents = models.BigIntegerField(default=0)
    # Billing staff's review of an overpayment (on the worklist until reviewed): refunded or kept as credit.
    overpayment_outcome = models.CharField(
        max_length=10, choices=OverpaymentOutcome.choices, blank=True, default=""
    )
    overpayment_reviewed_at = models.DateTimeField(null=True, blank=True)
    overpayment_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["received_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="billing_payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(method__in=PaymentMethod.values), name="billing_payment_method_known"
            ),
            models.UniqueConstraint(
                fields=["provider", "provider_reference"],
                condition=~Q(provider_reference=""),
                name="billing_payment_provider_reference_unique",
            ),
            models.CheckConstraint(
                condition=Q(overpayment_cents__gte=0) & Q(overpayment_cents__lte=models.F("amount_cents")),
                name="billing_payment_overpayment_within_amount",
            ),
        ]
        indexes = [models.Index(fields=["patient", "received_at"])]

    def __str__(self) -> str:
        return f"{self.get_method_display()} payment {self.pk}"


class Refund(models.Model):
    """Money given back out of one payment; the refunds of a payment never add up to more than it."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    # The payment's patient, kept here so a balance sums refunds without a join.
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    amount_cents = models.BigIntegerField()
    currency = currency_field()
    reason = models.CharField(max_length=200)
    refunded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The payment provider's id of the refund when the money went back through it (an online payment).
    provider_reference = models.CharField(max_length=120, blank=True, default="")

    class Meta:
        ordering = ["refunded_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="billing_refund_amount_positive"),
            # A provider's refund is recorded once (one made from the ledger, then reported back by a webhook).
            models.UniqueConstraint(
                fields=["provider_reference"],
                condition=~Q(provider_reference=""),
                name="billing_refund_provider_reference_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"Refund {self.pk} of payment {self.payment_id}"


class AdjustmentKind(models.TextChoices):
    CREDIT = "credit", "Credit"
    WRITE_OFF = "write_off", "Write-off"


class BalanceAdjustment(models.Model):
    """An amount taken off a patient's balance: a credit (may leave the patient in credit) or a write-off."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="billing_adjustments"
    )
    kind = models.CharField(max_length=10, choices=AdjustmentKind.choices)
    amount_cents = models.BigIntegerField()
    currency = currency_field()
    reason = models.CharField(max_length=200)
    created_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_cents__gt=0), name="billing_adjustment_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=AdjustmentKind.values), name="billing_adjustment_kind_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk}"
