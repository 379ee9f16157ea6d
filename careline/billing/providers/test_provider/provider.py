"""The built-in test provider's plugin, its signed events and their handling."""

from __future__ import annotations

import hmac
import json
import logging
import secrets
import time
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.crypto import salted_hmac

from careline.billing.models import PaymentCheckout
from careline.billing.providers import Checkout, CheckoutStarted, PaymentProvider, PaymentProviderError

logger = logging.getLogger(__name__)

PAYING_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"
SIGNATURE_HEADER = "Careline-Test-Signature"
# How old a signed event may be when it arrives (the same five minutes Stripe allows).
TOLERANCE_SECONDS = 300
_SALT = "careline.billing.test_provider.webhook"


class WebhookRefused(ValueError):
    """An event that is not signed by this Careline, is too old, or is not an event this provider sends.

    UNSIGNED: the signature is missing, wrong or stale (answered 403); otherwise it is malformed (400)."""

    def __init__(self, message: str, *, unsigned: bool = False) -> None:
        super().__init__(message)
        self.unsigned = unsigned


def _signature(timestamp: int, body: bytes) -> str:
    return salted_hmac(_SALT, f"{timestamp}.".encode() + body, algorithm="sha256").hexdigest()


def card_event_sign(body: bytes, *, timestamp: int | None = None) -> str:
    """The signature header's value for BODY ("t=<unix time>,v1=<hex>"), keyed on the deployment's secret."""
    stamp = int(time.time()) if timestamp is None else timestamp
    return f"t={stamp},v1={_signature(stamp, body)}"


def card_event_verify(body: bytes, header: str) -> dict[str, Any]:
    """The event BODY carries, once HEADER proves this Careline signed it lately; WebhookRefused otherwise."""
    parts = dict(part.split("=", 1) for part in (header or "").split(",") if "=" in part)
    stamp, signature = parts.get("t", ""), parts.get("v1", "")
    if not stamp.isdecimal() or len(stamp) > 12 or not signature:
        raise WebhookRefused("missing or malformed signature", unsigned=True)
    if abs(time.time() - int(stamp)) > TOLERANCE_SECONDS:
        raise WebhookRefused("signature too old", unsigned=True)
    if not hmac.compare_digest(_signature(int(stamp), body), signature):
        raise WebhookRefused("signature does not match", unsigned=True)
    try:
        event = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookRefused("body is not JSON") from None
    if not isinstance(event, dict):
        raise WebhookRefused("body is not an event")
    return event


def card_event(checkout: PaymentCheckout, card: str) -> bytes:
    """The event this provider sends for CHECKOUT paid with CARD (PAYING_CARD) or declined (any other)."""
    event: dict[str, Any] = {"id": "test_evt_" + secrets.token_urlsafe(12), "checkout": checkout.reference}
    if card == PAYING_CARD:
        event.update(
            type="payment.succeeded",
            payment="test_pay_" + secrets.token_urlsafe(12),
            amount_cents=checkout.amount_cents,
        )
    else:
        event.update(type="payment.declined")
    return json.dumps(event).encode()


def card_webhook_receive(body: bytes, header: str) -> str:
    """Verify and apply one event of the test provider; what happened, in a word. WebhookRefused when bad."""
    from careline.billing.services.checkouts import (
        CheckoutUnknown,
        checkout_declined,
        checkout_paid,
    )

    event = card_event_verify(body, header)
    kind, reference = event.get("type"), event.get("checkout")
    if not isinstance(reference, str) or not reference or len(reference) > 40:
        raise WebhookRefused("no checkout named")
    try:
        if kind == "payment.succeeded":
            payment_reference, amount = event.get("payment"), event.get("amount_cents")
            if (
                not isinstance(payment_reference, str)
                or not payment_reference
                or len(payment_reference) > 120
            ):
                raise WebhookRefused("no payment named")
            if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
                raise WebhookRefused("no amount")
            checkout_paid(
                provider=BuiltinTestProvider.code,
                reference=reference,
                payment_reference=payment_reference,
                amount_cents=amount,
            )
            return "paid"
        if kind == "payment.declined":
            checkout_declined(provider=BuiltinTestProvider.code, reference=reference, reason=DECLINE_REASON)
            return "declined"
    except CheckoutUnknown:
        logger.warning("test provider event for an unknown checkout %s", reference)
        return "unknown checkout"
    except ValidationError as error:
        raise WebhookRefused("; ".join(error.messages)) from None
    return "ignored"


DECLINE_REASON = "The card was declined."


class BuiltinTestProvider(PaymentProvider):
    """Test payments: Careline's own labelled page, test card numbers, signed events; no money moves."""

    code = "test"
    name = "Test payments (no money moves)"
    is_test = True
    urls_module = "careline.billing.providers.test_provider.urls"

    def checkout_start(self, checkout: Checkout) -> CheckoutStarted:
        from careline.billing.services.checkouts import checkout_open

        row, created = checkout_open(checkout=checkout, provider=self.code)
        if created:
            row.provider_reference = f"test_cs_{row.reference}"
            row.save(update_fields=["provider_reference", "updated_at"])
        page = reverse("payment-test-checkout", args=[row.reference])
        return CheckoutStarted(
            redirect_url=f"{settings.PUBLIC_BASE_URL}{page}", provider_reference=row.provider_reference
        )

    def refund(self, *, provider_reference: str, amount_cents: int, idempotency_key: str) -> str:
        if not provider_reference:
            raise PaymentProviderError("This payment has no test provider reference.")
        return "test_re_" + secrets.token_urlsafe(12)
