"""Online checkouts and what providers report about them: a payment recorded once, however often it is told.

Providers call `checkout_open` from `checkout_start` (one row per idempotency key, so a double click is one
checkout), and their webhooks call `checkout_paid`, `checkout_declined` or `checkout_expired` once the
signature is verified. `checkout_paid` records the payment with `payment_record(already_taken=True)`: the
provider has taken the money, so it is never refused (more than was due leaves the patient in credit,
flagged), and the provider's payment id makes a duplicated or reordered event the same payment.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from careline.billing.models import (
    BillingTask,
    CheckoutState,
    Payment,
    PaymentCheckout,
    PaymentMethod,
    Refund,
    TaskKind,
)
from careline.billing.providers import Checkout, PaymentProviderError
from careline.billing.services.checks import amount_checked, text_checked
from careline.billing.services.payments import payment_record, refund_record
from careline.core.actor import Actor
from careline.core.registry import UnknownPlugin
from careline.patients.models import Patient

logger = logging.getLogger(__name__)


class CheckoutUnknown(LookupError):
    """A provider's event names a checkout Careline never started (or one of another provider)."""


def provider_actor(provider: str) -> Actor:
    """Who records what a provider reports: Careline itself, on the provider's word."""
    return Actor.system(f"payment provider {provider}")


def checkout_open(*, checkout: Checkout, provider: str) -> tuple[PaymentCheckout, bool]:
    """The checkout row for CHECKOUT at PROVIDER, created on first use of its idempotency key; (row, created)."""
    if checkout.amount_cents <= 0:
        raise PaymentProviderError("There is nothing to pay.")
    existing = PaymentCheckout.objects.filter(
        provider=provider, idempotency_key=checkout.idempotency_key
    ).first()
    if existing is not None:
        return existing, False
    patient = Patient.objects.filter(pk=checkout.patient_id).first()
    if patient is None:
        raise PaymentProviderError("There is no such account to pay.")
    try:
        with transaction.atomic():
            row = PaymentCheckout.objects.create(
                patient=patient,
                statement_id=checkout.statement_id,
                instalment_id=checkout.instalment_id,
                amount_cents=checkout.amount_cents,
                currency=checkout.currency,
                description=checkout.description[:120],
                provider=provider,
                idempotency_key=checkout.idempotency_key[:120],
                success_url=checkout.success_url,
                cancel_url=checkout.cancel_url,
            )
    except IntegrityError:
        return PaymentCheckout.objects.get(provider=provider, idempotency_key=checkout.idempotency_key), False
    return row, True


def _locked(provider: str, reference: str) -> PaymentCheckout:
    row = PaymentCheckout.objects.select_for_update().filter(provider=provider, reference=reference).first()
    if row is None:
        raise CheckoutUnknown(reference)
    return row


def checkout_paid(
    *,
    provider: str,
    reference: str,
    payment_reference: str,
    amount_cents: int,
    received_at: datetime | None = None,
) -> Payment:
    """The provider took AMOUNT_CENTS for checkout REFERENCE as its payment PAYMENT_REFERENCE: record it (once).

    Never refused for being more than is due (late, duplicated, paid twice in two tabs): the excess is the
    payment's overpayment, the patient is in credit and billing staff see the flag."""
    with transaction.atomic():
        row = _locked(provider, reference)
        existing = Payment.objects.filter(provider=provider, provider_reference=payment_reference).first()
        if existing is None:
            existing = payment_record(
                patient=row.patient,
                amount_cents=amount_cents,
                method=PaymentMethod.ONLINE,
                reference=row.description[:60],
                provider=provider,
                provider_reference=payment_reference,
                received_at=received_at,
                actor=provider_actor(provider),
                already_taken=True,
            )
        elif existing.patient_id != row.patient_id:
            raise ValidationError("That payment belongs to another checkout.")
        # Paid wins over declined or expired: the money arrived (a late event still records it).
        if row.state != CheckoutState.PAID or row.payment_id != existing.pk:
            row.state = CheckoutState.PAID
            row.payment = existing
            row.decline_reason = ""
            row.save(update_fields=["state", "payment", "decline_reason", "updated_at"])
    return existing


def checkout_declined(*, provider: str, reference: str, reason: str) -> PaymentCheckout:
    """The provider declined the payer's card for checkout REFERENCE (a paid checkout stays paid)."""
    with transaction.atomic():
        row = _locked(provider, reference)
        if row.state in (CheckoutState.STARTED, CheckoutState.DECLINED):
            row.state = CheckoutState.DECLINED
            row.decline_reason = (reason or "The card was declined.")[:200]
            row.save(update_fields=["state", "decline_reason", "updated_at"])
            # Billing staff see it on the worklist (once per checkout, however often the provider says so).
            BillingTask.objects.get_or_create(
                source_key=f"checkout:{row.pk}",
                defaults={
                    "patient_id": row.patient_id,
                    "kind": TaskKind.FAILED_PAYMENT,
                    "statement_id": row.statement_id,
                    "created_at": timezone.now(),
                },
            )
    return row


def checkout_expired(*, provider: str, reference: str) -> PaymentCheckout:
    """The provider's page for checkout REFERENCE expired unused (a paid checkout stays paid)."""
    with transaction.atomic():
        row = _locked(provider, reference)
        if row.state in (CheckoutState.STARTED, CheckoutState.DECLINED):
            row.state = CheckoutState.EXPIRED
            row.save(update_fields=["state", "updated_at"])
    return row


def refund_through_provider(*, payment: Payment, amount_cents: int, reason: str, actor: Actor) -> Refund:
    """Give back AMOUNT_CENTS of PAYMENT: through its provider when it was paid online, then recorded.

    ValidationError (nothing changed) when the amount is more than is left, the provider is no longer
    installed, or the provider refuses."""
    from careline.billing.providers import PAYMENT_PROVIDERS

    amount_cents = amount_checked(amount_cents, "amount_cents")
    reason = text_checked(reason, "reason", 200, "Say why the money is given back.")
    if not payment.provider:
        return refund_record(payment=payment, amount_cents=amount_cents, reason=reason, actor=actor)
    try:
        provider = PAYMENT_PROVIDERS.get(payment.provider)
    except UnknownPlugin:
        raise ValidationError(
            f"The payment provider {payment.provider!r} is not installed: refund it there, then record it "
            "as a credit."
        ) from None
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        already = locked.refunds.count()
        # The number of refunds so far makes a retry of the same refund the same provider request.
        key = f"careline-refund-{locked.pk}-{already}-{amount_cents}"
        # Check the amount first (refund_record checks again under the same lock) so that nothing reaches
        # the provider for a refund Careline would refuse.
        left = locked.amount_cents - sum(r.amount_cents for r in locked.refunds.all())
        if not 0 < amount_cents <= left:
            return refund_record(payment=locked, amount_cents=amount_cents, reason=reason, actor=actor)
        try:
            provider_reference = provider.refund(
                provider_reference=locked.provider_reference, amount_cents=amount_cents, idempotency_key=key
            )
        except PaymentProviderError as error:
            raise ValidationError(f"The payment provider refused the refund: {error}") from None
        refund = refund_record(payment=locked, amount_cents=amount_cents, reason=reason, actor=actor)
        Refund.objects.filter(pk=refund.pk).update(provider_reference=provider_reference[:120])
        refund.provider_reference = provider_reference[:120]
    return refund
