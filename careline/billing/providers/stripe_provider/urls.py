"""Stripe's webhook, mounted by the payment-provider registry under /billing/providers/stripe/."""

from __future__ import annotations

from django.urls import path

from careline.billing.providers.stripe_provider import views

urlpatterns = [path("webhook", views.webhook, name="payment-stripe-webhook")]
