"""Stripe, through the official `stripe` package: Checkout Sessions, verified webhooks, refunds.

STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET and STRIPE_API_BASE (a compatible or test server) come from the
environment. The webhook endpoint to register in Stripe is `<PUBLIC_BASE_URL>/billing/providers/stripe/webhook`
with the events checkout.session.completed, checkout.session.async_payment_succeeded,
checkout.session.expired, payment_intent.succeeded and payment_intent.payment_failed.
"""

from careline.billing.providers.stripe_provider.provider import StripeProvider

__all__ = ["StripeProvider"]
