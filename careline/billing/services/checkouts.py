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
from careline.billing.queries import balance_from, balances_of, statement_patient_ids
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


# A guarantor's payment of a combined statement is one payment at the provider, recorded as one row per
# account it pays: the first row carries the provider's id, the others that id + "/<patient id>".
PART_SEPARATOR = "/"


def provider_payment_id(payment: Payment) -> str:
    """The provider's id of the payment PAYMENT is (a part of)."""
    return payment.provider_reference.split(PART_SEPARATOR, 1)[0]


def _online_payment_record(
    row: PaymentCheckout,
    group: list[int],
    *,
    provider: str,
    payment_reference: str,
    amount_cents: int,
    received_at: datetime | None,
) -> Payment:
    """Record the money taken for ROW: on its patient's account, or, for a guarantor's combined statement
    (GROUP: the guarantor first), on each account up to what it owes, the rest on the guarantor's."""
    actor = provider_actor(provider)
    parts: list[tuple[int, int]] = [(row.patient_id, amount_cents)]
    if len(group) > 1:
        for pk in sorted(group):
            Patient.objects.select_for_update().filter(pk=pk).values_list("pk", flat=True).first()
        dues = {acct.pk: balance_from(acct).due for acct in balances_of(Patient.objects.filter(pk__in=group))}
        remaining, taken = amount_cents, []
        for pk in group:
            take = min(dues.get(pk, 0), remaining)
            if take > 0:
                taken.append([pk, take])
                remaining -= take
        if remaining:
            if taken and taken[0][0] == group[0]:
                taken[0][1] += remaining
            else:
                taken.insert(0, [group[0], remaining])
        parts = [(pk, take) for pk, take in taken]
    patients = Patient.objects.in_bulk([pk for pk, _ in parts])
    first: Payment | None = None
    for pk, take in parts:
        payment = payment_record(
            patient=patients[pk],
            amount_cents=take,
            method=PaymentMethod.ONLINE,
            reference=row.description[:60],
            provider=provider,
            provider_reference=payment_reference
            if first is None
            else f"{payment_reference}{PART_SEPARATOR}{pk}"[:120],
            received_at=received_at,
            actor=actor,
            already_taken=True,
        )
        first = first or payment
    assert first is not None
    return first


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
        group = statement_patient_ids(row.statement) if row.statement is not None else [row.patient_id]
        if existing is None:
            existing = _online_payment_record(
                row, group, provider=provider, payment_reference=payment_reference,
                amount_cents=amount_cents, received_at=received_at,
            )  # fmt: skip
        elif existing.patient_id not in group:
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
                provider_reference=provider_payment_id(locked), amount_cents=amount_cents, idempotency_key=key
            )
        except PaymentProviderError as error:
            raise ValidationError(f"The payment provider refused the refund: {error}") from None
        refund = refund_record(payment=locked, amount_cents=amount_cents, reason=reason, actor=actor)
        Refund.objects.filter(pk=refund.pk).update(provider_reference=provider_reference[:120])
        refund.provider_reference = provider_reference[:120]
    return refund
