"""Two desks recording at once on PostgreSQL: the locks keep refunds within their payment and payments within
the balance due."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from careline.billing.models import Payment, PaymentCheckout, Refund
from careline.billing.queries import patient_balance
from careline.billing.services.payments import payment_record, refund_record
from careline.billing.tests.support import owing
from careline.core.actor import Actor


def _race(attempt: Callable[[], Any]) -> list[str]:
    """Run ATTEMPT in two threads released together; each outcome: 'done' or 'refused'."""
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run() -> None:
        try:
            barrier.wait()
            attempt()
            outcomes.append("done")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_refunds_of_most_of_one_payment_at_once_one_is_refused(personas: Any) -> None:
    owing(personas, 5_000)
    payment = payment_record(
        patient=personas.pat, amount_cents=5_000, method="cash", actor=Actor.staff(personas.admin)
    )
    actor = Actor.staff(personas.billing_a)
    outcomes = _race(lambda: refund_record(payment=payment, amount_cents=3_000, reason="Race", actor=actor))
    assert outcomes == ["done", "refused"]
    assert sum(Refund.objects.values_list("amount_cents", flat=True)) == 3_000


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_desks_taking_the_whole_balance_at_once_one_is_refused(personas: Any) -> None:
    owing(personas, 5_000)
    actor = Actor.staff(personas.front_a)
    outcomes = _race(
        lambda: payment_record(patient=personas.pat, amount_cents=5_000, method="cash", actor=actor)
    )
    assert outcomes == ["done", "refused"]
    assert Payment.objects.count() == 1 and patient_balance(personas.pat).due == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_provider_payment_reported_twice_at_once_is_recorded_once(personas: Any) -> None:
    from careline.billing.providers import active_provider
    from careline.billing.services.checkouts import checkout_paid
    from careline.billing.tests.payments_support import pat_checkout

    owing(personas, 5_000)
    active_provider().checkout_start(pat_checkout(personas, 5_000))
    reference = PaymentCheckout.objects.get().reference
    outcomes = _race(
        lambda: checkout_paid(
            provider="test", reference=reference, payment_reference="pay_1", amount_cents=5_000
        )
    )
    # Both deliveries succeed (the webhook answers 200 to each) and name the same payment.
    assert outcomes == ["done", "done"]
    assert Payment.objects.count() == 1 and Payment.objects.get().overpayment_cents == 0
