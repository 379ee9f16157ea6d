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


@pytest.fixture
def default_followup_steps(db):
    """The default collections sequence, as the data migration seeds it (a transactional test's flush empties
    the table, so tests that rely on it ask for it)."""
    from careline.billing.models import FollowUpStep

    if not FollowUpStep.objects.exists():
        FollowUpStep.objects.bulk_create(
            [
                FollowUpStep(days_after=days, action=action)
                for days, action in [
                    (15, "reminder"),
                    (30, "second_channel"),
                    (60, "call_task"),
                    (90, "review"),
                ]
            ]
        )
