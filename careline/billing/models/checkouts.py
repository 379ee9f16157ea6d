"""Online checkouts: a payer sent to a payment provider's hosted page, and what became of it.

A checkout is a row before the payer leaves Careline, so the provider's webhook (which names the checkout
again) maps back to the patient and statement it was for. The payment itself is a `Payment` keyed on the
provider's payment id; the checkout only says how the payer got there.
"""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q

from careline.billing.models.ledger import currency_field


class CheckoutState(models.TextChoices):
    STARTED = "started", "Started"
    PAID = "paid", "Paid"
    DECLINED = "declined", "Declined"
    EXPIRED = "expired", "Expired"


def checkout_reference() -> str:
    """An unguessable id for a new checkout (named in the provider's metadata and the test page's link)."""
    return "co_" + secrets.token_urlsafe(18)


class PaymentCheckout(models.Model):
    """One attempt to pay AMOUNT_CENTS of PATIENT's account online (for a statement or a plan's instalment)."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="billing_checkouts"
    )
    statement = models.ForeignKey(
        "billing.Statement", null=True, blank=True, on_delete=models.SET_NULL, related_name="checkouts"
    )
    # A payment plan's instalment (plans are another part of billing; an id until they exist).
    instalment_id = models.BigIntegerField(null=True, blank=True)
    amount_cents = models.BigIntegerField()
    currency = currency_field()
    description = models.CharField(max_length=120)
    provider = models.CharField(max_length=30)
    # Careline's own id of the checkout (in the provider's metadata), and the provider's (its session id).
    reference = models.CharField(max_length=40, unique=True, default=checkout_reference)
    provider_reference = models.CharField(max_length=120, blank=True, default="")
    idempotency_key = models.CharField(max_length=120)
    success_url = models.URLField(max_length=500, blank=True, default="")
    cancel_url = models.URLField(max_length=500, blank=True, default="")
    state = models.CharField(max_length=10, choices=CheckoutState.choices, default=CheckoutState.STARTED)
    # Why the provider declined, in words safe to show the payer ("Your card was declined.").
    decline_reason = models.CharField(max_length=200, blank=True, default="")
    payment = models.ForeignKey(
        "billing.Payment", null=True, blank=True, on_delete=models.SET_NULL, related_name="checkouts"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="billing_checkout_amount_positive"),
            models.CheckConstraint(
                condition=Q(state__in=CheckoutState.values), name="billing_checkout_state_known"
            ),
            models.UniqueConstraint(
                fields=["provider", "idempotency_key"], name="billing_checkout_idempotency_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["provider", "provider_reference"]),
            models.Index(fields=["patient", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"Checkout {self.reference}"
