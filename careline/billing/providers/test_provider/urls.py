"""The test provider's routes, mounted by the payment-provider registry under /billing/providers/test/."""

from __future__ import annotations

from django.urls import path

from careline.billing.providers.test_provider import views

urlpatterns = [
    path("checkout/<str:reference>/", views.checkout_page, name="payment-test-checkout"),
    path("webhook", views.webhook, name="payment-test-webhook"),
]
