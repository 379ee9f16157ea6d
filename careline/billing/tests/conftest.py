"""Fixtures of billing's tests: the loopback Stripe double as the active payment provider."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from careline.billing.testing.stripe_double import API_KEY, WEBHOOK_SECRET, StripeDouble


@pytest.fixture
def stripe_double(settings: Any) -> Iterator[StripeDouble]:
    """A running loopback Stripe, the active provider, with its key and webhook secret in settings."""
    double = StripeDouble().start()
    settings.CARELINE_PAYMENT_PROVIDER = "stripe"
    settings.STRIPE_SECRET_KEY = API_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = double.url
    try:
        yield double
    finally:
        double.stop()
