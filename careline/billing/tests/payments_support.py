"""Helpers of the online-payment tests: a checkout of Pat's, the Stripe double wired into settings."""

from __future__ import annotations

from typing import Any

from careline.billing.providers import Checkout, CheckoutStarted, active_provider
from careline.testing.personas import Personas


def pat_checkout(personas: Personas, cents: int, *, key: str = "statement-1-try-1", **extra: Any) -> Checkout:
    """A checkout of CENTS for Pat's account, as the pay page would start it."""
    return Checkout(
        patient_id=personas.pat.pk,
        amount_cents=cents,
        currency="USD",
        description="Statement S-000001",
        success_url="http://testserver/pay/done/",
        cancel_url="http://testserver/pay/back/",
        idempotency_key=key,
        **extra,
    )


def start(checkout: Checkout) -> CheckoutStarted:
    return active_provider().checkout_start(checkout)
