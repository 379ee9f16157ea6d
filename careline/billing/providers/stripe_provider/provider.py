"""The Stripe payment provider: a Checkout Session per checkout (idempotent), refunds, and its events.

Every create carries an idempotency key, so a retried start or refund is the same object at Stripe. The
PaymentIntent of a session is the payment's id in Careline: `checkout.session.completed` and
`payment_intent.succeeded` name it both, so either one, twice, in any order, records one payment.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import stripe
from django.conf import settings
from django.core.exceptions import ValidationError

from careline.billing.providers import Checkout, CheckoutStarted, PaymentProvider, PaymentProviderError

logger = logging.getLogger(__name__)

# The metadata key naming Careline's checkout, on the session and on its PaymentIntent.
CHECKOUT_KEY = "careline_checkout"
UNREACHABLE = "The payment service could not be reached. Try again in a few minutes."
DECLINED = "The card was declined."


class StripeEventRefused(ValueError):
    """A webhook request that is not a verified, well-formed Stripe event (nothing changed).

    UNSIGNED: it could not be verified (answered 403); otherwise a verified event is malformed (400)."""

    def __init__(self, message: str, *, unsigned: bool = False) -> None:
        super().__init__(message)
        self.unsigned = unsigned


def stripe_client() -> stripe.StripeClient:
    """A client with the secret key, against STRIPE_API_BASE when set (a compatible or test server)."""
    key = settings.STRIPE_SECRET_KEY
    if not key:
        raise PaymentProviderError("Online payments are not set up (STRIPE_SECRET_KEY).")
    base = settings.STRIPE_API_BASE
    return stripe.StripeClient(
        key,
        base_addresses={"api": base} if base else None,
        max_network_retries=2,
    )


class StripeProvider(PaymentProvider):
    """Card payments on Stripe's hosted Checkout page."""

    code = "stripe"
    name = "Stripe"
    urls_module = "careline.billing.providers.stripe_provider.urls"

    def checkout_start(self, checkout: Checkout) -> CheckoutStarted:
        from careline.billing.services.checkouts import checkout_open

        row, _created = checkout_open(checkout=checkout, provider=self.code)
        metadata = {CHECKOUT_KEY: row.reference}
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": row.currency.lower(),
                        "unit_amount": row.amount_cents,
                        "product_data": {"name": row.description},
                    },
                }
            ],
            "success_url": row.success_url,
            "cancel_url": row.cancel_url or row.success_url,
            "client_reference_id": row.reference,
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata},
        }
        if checkout.payer_email:
            params["customer_email"] = checkout.payer_email
        try:
            session = stripe_client().v1.checkout.sessions.create(
                params,  # type: ignore[arg-type]
                {"idempotency_key": f"careline-checkout-{row.reference}"},
            )
        except stripe.StripeError as error:
            logger.warning("stripe checkout %s not created: %s", row.reference, error)
            raise PaymentProviderError(UNREACHABLE) from None
        if row.provider_reference != session.id:
            row.provider_reference = str(session.id)[:120]
            row.save(update_fields=["provider_reference", "updated_at"])
        if not session.url:
            raise PaymentProviderError(UNREACHABLE)
        return CheckoutStarted(redirect_url=str(session.url), provider_reference=row.provider_reference)

    def refund(self, *, provider_reference: str, amount_cents: int, idempotency_key: str) -> str:
        if not provider_reference:
            raise PaymentProviderError("This payment has no Stripe payment id.")
        try:
            refund = stripe_client().v1.refunds.create(
                {"payment_intent": provider_reference, "amount": amount_cents},
                {"idempotency_key": idempotency_key},
            )
        except stripe.InvalidRequestError as error:
            raise PaymentProviderError(error.user_message or "Stripe refused the refund.") from None
        except stripe.StripeError as error:
            logger.warning("stripe refund of %s failed: %s", provider_reference, error)
            raise PaymentProviderError(UNREACHABLE) from None
        return str(refund.id)


# --- events ------------------------------------------------------------------------------------------------


def stripe_event_verified(payload: bytes, signature: str) -> dict[str, Any]:
    """The event in PAYLOAD once its Stripe-Signature verifies with STRIPE_WEBHOOK_SECRET; StripeEventRefused."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise StripeEventRefused("STRIPE_WEBHOOK_SECRET is not set", unsigned=True)
    if not signature:
        raise StripeEventRefused("no Stripe-Signature header", unsigned=True)
    try:
        stripe.Webhook.construct_event(payload, signature, secret)
    except stripe.SignatureVerificationError:
        raise StripeEventRefused("signature does not verify", unsigned=True) from None
    except (ValueError, TypeError, KeyError, AttributeError):
        raise StripeEventRefused("not a Stripe event") from None
    # The verified bytes, read as plain data (not the library's objects): only the fields used below.
    try:
        event = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise StripeEventRefused("not JSON") from None
    if not isinstance(event, dict):
        raise StripeEventRefused("not an event")
    return event


def _text(value: Any, limit: int) -> str:
    return value if isinstance(value, str) and 0 < len(value) <= limit else ""


def _amount(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def stripe_event_apply(event: dict[str, Any]) -> str:
    """Apply one verified Stripe EVENT; what happened, in a word. StripeEventRefused for a malformed one."""
    from careline.billing.services.checkouts import (
        CheckoutUnknown,
        checkout_declined,
        checkout_expired,
        checkout_paid,
    )

    kind = event.get("type")
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(kind, str) or not isinstance(obj, dict):
        raise StripeEventRefused("no type or object")
    raw_metadata = obj.get("metadata")
    metadata: dict[str, Any] = raw_metadata if isinstance(raw_metadata, dict) else {}
    code = StripeProvider.code
    try:
        if kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
            if obj.get("payment_status") != "paid":
                return "waiting"  # a delayed payment method: its async_payment_succeeded follows
            reference = _text(metadata.get(CHECKOUT_KEY), 40) or _text(obj.get("client_reference_id"), 40)
            payment, amount = _text(obj.get("payment_intent"), 120), _amount(obj.get("amount_total"))
            if not (reference and payment and amount):
                raise StripeEventRefused("a paid session without its checkout, payment or amount")
            checkout_paid(provider=code, reference=reference, payment_reference=payment, amount_cents=amount)
            return "paid"
        if kind == "payment_intent.succeeded":
            reference = _text(metadata.get(CHECKOUT_KEY), 40)
            if not reference:
                return "ignored"  # a payment taken outside Careline's checkouts
            payment, amount = _text(obj.get("id"), 120), _amount(obj.get("amount_received"))
            if not (payment and amount):
                raise StripeEventRefused("a payment without its id or amount")
            checkout_paid(provider=code, reference=reference, payment_reference=payment, amount_cents=amount)
            return "paid"
        if kind == "checkout.session.expired":
            reference = _text(metadata.get(CHECKOUT_KEY), 40) or _text(obj.get("client_reference_id"), 40)
            if reference:
                checkout_expired(provider=code, reference=reference)
                return "expired"
            return "ignored"
        if kind == "charge.refunded":
            return _charge_refunded(obj)
        if kind in ("charge.dispute.created", "charge.dispute.closed"):
            return _dispute(obj, closed=kind == "charge.dispute.closed")
        if kind == "payment_intent.payment_failed":
            reference = _text(metadata.get(CHECKOUT_KEY), 40)
            if reference:
                checkout_declined(provider=code, reference=reference, reason=DECLINED)
                return "declined"
            return "ignored"
    except CheckoutUnknown:
        logger.warning("stripe event %s names an unknown checkout", _text(event.get("id"), 120))
        return "unknown checkout"
    except ValidationError as error:
        raise StripeEventRefused("; ".join(error.messages)) from None
    return "ignored"


def _payment_intent(obj: dict[str, Any]) -> str:
    value = obj.get("payment_intent")
    if isinstance(value, dict):  # expanded
        value = value.get("id")
    return _text(value, 120)


def _charge_refunded(charge: dict[str, Any]) -> str:
    """`charge.refunded`: refunds made in Stripe's dashboard reach the ledger (once; the ledger's own, which
    carry their Stripe refund id, are not recorded again)."""
    from careline.billing.services.provider_events import ReportedRefund, provider_refunds_reported

    payment = _payment_intent(charge)
    if not payment:
        return "ignored"  # a charge without a PaymentIntent was not taken by Careline's checkouts
    listed = charge.get("refunds")
    rows = listed.get("data") if isinstance(listed, dict) else None
    refunds = [
        ReportedRefund(reference=_text(row.get("id"), 120), amount_cents=_amount(row.get("amount")))
        for row in (rows if isinstance(rows, list) else [])
        if isinstance(row, dict) and row.get("status") not in ("failed", "canceled")
    ]
    if any(not (r.reference and r.amount_cents) for r in refunds):
        raise StripeEventRefused("a refund without its id or amount")
    total = charge.get("amount_refunded")
    if not refunds and not _amount(total):
        raise StripeEventRefused("a refunded charge without its refunds or amount refunded")
    count = provider_refunds_reported(
        provider=StripeProvider.code,
        payment_reference=payment,
        refunds=refunds,
        refunded_total=_amount(total),
    )
    return f"refunds recorded: {count}"


def _dispute(dispute: dict[str, Any], *, closed: bool) -> str:
    """`charge.dispute.created` / `.closed`: a card dispute on the worklist; lost, a refund on the ledger."""
    from careline.billing.services.provider_events import provider_dispute_closed, provider_dispute_opened

    payment, reference = _payment_intent(dispute), _text(dispute.get("id"), 60)
    amount = _amount(dispute.get("amount"))
    if not (reference and amount):
        raise StripeEventRefused("a dispute without its id or amount")
    if not payment:
        return "ignored"
    if closed:
        status = _text(dispute.get("status"), 40)
        task = provider_dispute_closed(
            provider=StripeProvider.code, payment_reference=payment, dispute_reference=reference,
            amount_cents=amount, status=status,
        )  # fmt: skip
    else:
        task = provider_dispute_opened(
            provider=StripeProvider.code, payment_reference=payment, dispute_reference=reference,
            amount_cents=amount, reason=_text(dispute.get("reason"), 60),
        )  # fmt: skip
    return "dispute recorded" if task is not None else "unknown payment"
