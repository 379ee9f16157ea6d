"""Payment providers as plugins (the registry pattern of channel types, careline/core/registry.py).

Card data never touches Careline: a provider sends the payer to its hosted payment page
(`PaymentProvider.checkout_start`) and tells Careline the outcome through its webhook, which records the
payment with `careline.billing.services.payments.payment_record(provider=..., provider_reference=...)`, so a
webhook delivered twice records one payment.

    provider = active_provider()                       # settings.CARELINE_PAYMENT_PROVIDER
    started = provider.checkout_start(Checkout(...))  # redirect the payer to started.redirect_url

Installed by dotted path in settings.CARELINE_PAYMENT_PROVIDERS; each provider's webhooks are mounted under
`/billing/providers/<code>/` (PAYMENT_PROVIDERS.url_resolver()).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import ClassVar

from django.conf import settings

from careline.core.registry import Plugin, Registry


@dataclass(frozen=True)
class Checkout:
    """What the payer is about to pay: AMOUNT_CENTS for PATIENT_ID's account, optionally for one statement or
    one instalment of a plan.

    DESCRIPTION is shown on the provider's page and must say nothing clinical ("Statement S-000123").
    IDEMPOTENCY_KEY makes a repeated start (a double click, a retry) the same checkout at the provider.
    """

    patient_id: int
    amount_cents: int
    currency: str
    description: str
    success_url: str
    cancel_url: str
    idempotency_key: str
    statement_id: int | None = None
    instalment_id: int | None = None
    payer_email: str = ""


@dataclass(frozen=True)
class CheckoutStarted:
    """Where to send the payer, and the provider's id of the checkout (its webhook names it again)."""

    redirect_url: str
    provider_reference: str


class PaymentProviderError(Exception):
    """The provider could not be reached or refused the request; MESSAGE is safe to show a payer."""


class PaymentProvider(Plugin, abc.ABC):
    """A way to take card payments on a hosted page. Subclasses implement the two calls below."""

    # A test provider moves no money: its pages say so, and the demo uses it.
    is_test: ClassVar[bool] = False

    @abc.abstractmethod
    def checkout_start(self, checkout: Checkout) -> CheckoutStarted:
        """Create the hosted checkout for CHECKOUT; PaymentProviderError when the provider cannot."""

    @abc.abstractmethod
    def refund(self, *, provider_reference: str, amount_cents: int, idempotency_key: str) -> str:
        """Give back AMOUNT_CENTS of the payment PROVIDER_REFERENCE; the provider's refund id."""


PAYMENT_PROVIDERS: Registry[PaymentProvider] = Registry(
    setting="CARELINE_PAYMENT_PROVIDERS", base=PaymentProvider, noun="payment provider"
)


def active_provider() -> PaymentProvider:
    """The provider online payments use now (settings.CARELINE_PAYMENT_PROVIDER); UnknownPlugin if none."""
    return PAYMENT_PROVIDERS.get(str(settings.CARELINE_PAYMENT_PROVIDER))
