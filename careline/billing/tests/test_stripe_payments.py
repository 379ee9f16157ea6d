"""Stripe through the official client against a loopback double: checkouts, signed webhooks, refunds.

Webhooks: signed events record one payment however often and in whatever order they come; forged, stale,
unsigned or garbage requests change nothing and never answer 500; a late payment (the balance already paid)
is recorded, leaving the patient in credit and flagged.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from careline.billing.models import CheckoutState, Payment, PaymentCheckout, PaymentMethod, Refund
from careline.billing.providers import PaymentProviderError
from careline.billing.queries import patient_balance
from careline.billing.services.payments import payment_record
from careline.billing.testing.stripe_double import StripeDouble, event, signed
from careline.billing.tests.payments_support import pat_checkout, start
from careline.billing.tests.support import owing
from careline.core.actor import Actor
from careline.testing.personas import Personas

pytestmark = pytest.mark.django_db

WEBHOOK = "/billing/providers/stripe/webhook"


def _deliver(payload: Any, *, secret: str | None = None, timestamp: int | None = None) -> Any:
    body, header = signed(payload, **({"secret": secret} if secret else {}), timestamp=timestamp)
    return Client().post(WEBHOOK, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)


def _started(personas: Personas, double: StripeDouble, cents: int = 2_500) -> tuple[PaymentCheckout, str]:
    owing(personas, cents)
    started = start(pat_checkout(personas, cents))
    return PaymentCheckout.objects.get(
        provider_reference=started.provider_reference
    ), started.provider_reference


def test_a_checkout_is_a_stripe_session_created_once_per_idempotency_key(
    personas: Personas, stripe_double: StripeDouble
) -> None:
    owing(personas, 2_500)
    first = start(pat_checkout(personas, 2_500))
    again = start(pat_checkout(personas, 2_500))  # a double click: the same checkout
    assert first == again
    assert first.redirect_url.startswith(stripe_double.url + "/pay/cs_test_")
    creates = [r for r in stripe_double.requests if r.path == "/v1/checkout/sessions"]
    assert len(stripe_double.sessions) == 1
    assert all(r.idempotency_key for r in creates) and len({r.idempotency_key for r in creates}) == 1
    row = PaymentCheckout.objects.get()
    assert (row.state, row.amount_cents, row.provider, row.patient_id) == (
        "started",
        2_500,
        "stripe",
        personas.pat.pk,
    )
    sent = creates[0].params
    assert sent["metadata"] == {"careline_checkout": row.reference}
    assert sent["payment_intent_data"]["metadata"] == {"careline_checkout": row.reference}
    assert sent["line_items"][0]["price_data"]["unit_amount"] == "2500"
    assert "Ortega" not in json.dumps(sent)  # nothing about the patient but the checkout's reference


def test_stripe_unreachable_is_a_clear_provider_error(
    personas: Personas, stripe_double: StripeDouble
) -> None:
    owing(personas, 2_500)
    for _ in range(3):  # the client retries twice
        stripe_double.fail_next(503)
    with pytest.raises(PaymentProviderError, match="could not be reached"):
        start(pat_checkout(personas, 2_500))


def test_a_signed_completed_session_records_one_online_payment(
    personas: Personas, stripe_double: StripeDouble
) -> None:
    row, session = _started(personas, stripe_double)
    completed, _ = stripe_double.pay(session)
    response = _deliver(completed)
    assert response.status_code == 200
    payment = Payment.objects.get()
    assert (payment.amount_cents, payment.method, payment.provider) == (2_500, PaymentMethod.ONLINE, "stripe")
    assert payment.provider_reference.startswith("pi_")
    row.refresh_from_db()
    assert (row.state, row.payment_id) == (CheckoutState.PAID, payment.pk)
    assert patient_balance(personas.pat).due == 0


def test_duplicated_and_reordered_events_record_one_payment(
    personas: Personas, stripe_double: StripeDouble
) -> None:
    _, session = _started(personas, stripe_double)
    completed, succeeded = stripe_double.pay(session)
    for payload in (succeeded, completed, succeeded, completed):  # reordered, then each delivered again
        assert _deliver(payload).status_code == 200
    assert Payment.objects.count() == 1
    assert patient_balance(personas.pat).due == 0


def test_a_late_payment_after_the_balance_was_paid_is_recorded_in_credit_and_flagged(
    personas: Personas, stripe_double: StripeDouble
) -> None:
    _, session = _started(personas, stripe_double)
    payment_record(
        patient=personas.pat, amount_cents=2_500, method="cash", actor=Actor.staff(personas.front_a)
    )
    completed, _ = stripe_double.pay(session)
    assert _deliver(completed).status_code == 200
    online = Payment.objects.get(method=PaymentMethod.ONLINE)
    assert online.overpayment_cents == 2_500
    balance = patient_balance(personas.pat)
    assert (balance.due, balance.credit_balance) == (0, 2_500)


def test_a_payment_after_the_checkout_expired_still_counts(
    personas: Personas, stripe_double: StripeDouble
) -> None:
    row, session = _started(personas, stripe_double)
    assert _deliver(stripe_double.expire(session)).status_code == 200
    row.refresh_from_db()
    assert row.state == CheckoutState.EXPIRED
    completed, _ = stripe_double.pay(session)
    assert _deliver(completed).status_code == 200
    row.refresh_from_db()
    assert row.state == CheckoutState.PAID and Payment.objects.count() == 1


def test_a_declined_card_marks_the_checkout_and_records_nothing(
    personas: Personas, stripe_double: StripeDouble
) -> None:
    row, session = _started(personas, stripe_double)
    assert _deliver(stripe_double.decline(session)).status_code == 200
    row.refresh_from_db()
    assert row.state == CheckoutState.DECLINED and Payment.objects.count() == 0


@pytest.mark.parametrize(
    "case",
    ["forged", "stale", "unsigned", "garbage", "not-json", "empty", "no-secret", "wrong-shape", "binary"],
)
def test_a_request_that_is_not_a_verified_stripe_event_changes_nothing_and_is_refused(
    personas: Personas, stripe_double: StripeDouble, settings: Any, case: str
) -> None:
    _, session = _started(personas, stripe_double)
    completed, _ = stripe_double.pay(session)
    client = Client(raise_request_exception=False)
    if case == "forged":
        response = _deliver(completed, secret="whsec_someone_else")
    elif case == "stale":
        response = _deliver(completed, timestamp=int(time.time()) - 3_600)
    elif case == "unsigned":
        response = client.post(WEBHOOK, json.dumps(completed), content_type="application/json")
    elif case == "garbage":
        response = client.post(
            WEBHOOK, b"{]", content_type="application/json", HTTP_STRIPE_SIGNATURE="t=abc,v1=zz,,=="
        )
    elif case == "not-json":
        body, header = signed(b"not json at all")
        response = client.post(WEBHOOK, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)
    elif case == "empty":
        response = client.post(WEBHOOK, b"", content_type="application/json", HTTP_STRIPE_SIGNATURE="")
    elif case == "no-secret":
        settings.STRIPE_WEBHOOK_SECRET = ""
        response = _deliver(completed)
    elif case == "binary":
        body, header = signed(b"\xff\xfe\x00garbage")
        response = client.post(
            WEBHOOK, body, content_type="application/octet-stream", HTTP_STRIPE_SIGNATURE=header
        )
    else:  # signed, but a paid session without its payment or amount
        broken = event("checkout.session.completed", {"payment_status": "paid", "metadata": "x"})
        response = _deliver(broken)
    # Not verified: 403 (as every provider webhook); verified but unreadable: 400.
    assert response.status_code == (400 if case in ("not-json", "wrong-shape", "binary") else 403)
    assert Payment.objects.count() == 0


def test_the_webhook_takes_only_post(stripe_double: StripeDouble) -> None:
    assert Client().get(WEBHOOK).status_code == 405


def test_events_for_unknown_checkouts_or_of_other_kinds_are_acknowledged_and_ignored(
    personas: Personas, stripe_double: StripeDouble
) -> None:
    stranger = event(
        "checkout.session.completed",
        {"payment_status": "paid", "metadata": {"careline_checkout": "co_nobody"}, "payment_intent": "pi_x",
         "amount_total": 100},
    )  # fmt: skip
    assert _deliver(stranger).content == b"unknown checkout"
    assert _deliver(event("customer.created", {"id": "cus_1"})).content == b"ignored"
    assert Payment.objects.count() == 0


def test_a_refund_from_the_ledger_goes_back_through_stripe(
    personas: Personas, stripe_double: StripeDouble, client_for: Any
) -> None:
    _, session = _started(personas, stripe_double)
    _deliver(stripe_double.pay(session)[0])
    payment = Payment.objects.get()
    url = reverse("billing:refund", args=[payment.pk])
    body = {f"refund-{payment.pk}-amount": "10.00", f"refund-{payment.pk}-reason": "Charged twice"}
    response = client_for(personas.billing_a).post(url, body)
    assert response.status_code == 302
    refund = Refund.objects.get()
    assert refund.amount_cents == 1_000
    assert stripe_double.refunds[0]["id"] == refund.provider_reference
    assert stripe_double.refunds[0]["payment_intent"] == payment.provider_reference
    refund_calls = [r for r in stripe_double.requests if r.path == "/v1/refunds"]
    assert refund_calls[0].idempotency_key


def test_a_refund_careline_refuses_never_reaches_stripe(
    personas: Personas, stripe_double: StripeDouble, client_for: Any
) -> None:
    _, session = _started(personas, stripe_double)
    _deliver(stripe_double.pay(session)[0])
    payment = Payment.objects.get()
    url = reverse("billing:refund", args=[payment.pk])
    body = {f"refund-{payment.pk}-amount": "99.00", f"refund-{payment.pk}-reason": "Too much"}
    client_for(personas.billing_a).post(url, body)
    assert Refund.objects.count() == 0
    assert not [r for r in stripe_double.requests if r.path == "/v1/refunds"]


def test_a_refund_stripe_refuses_records_nothing(
    personas: Personas, stripe_double: StripeDouble, client_for: Any
) -> None:
    _, session = _started(personas, stripe_double)
    _deliver(stripe_double.pay(session)[0])
    payment = Payment.objects.get()
    stripe_double.refunds.append(
        {"id": "re_elsewhere", "amount": 2_000, "payment_intent": payment.provider_reference}
    )
    url = reverse("billing:refund", args=[payment.pk])
    body = {f"refund-{payment.pk}-amount": "10.00", f"refund-{payment.pk}-reason": "Refund"}
    response = client_for(personas.billing_a).post(url, body, follow=True)
    assert Refund.objects.count() == 0
    assert "refused the refund" in response.content.decode()


# --- refunds and disputes made at Stripe ------------------------------------------------------------------


def _paid(personas: Personas, stripe_double: StripeDouble, cents: int = 2_500) -> tuple[Payment, str]:
    _, session = _started(personas, stripe_double, cents)
    _deliver(stripe_double.pay(session)[0])
    return Payment.objects.get(), session


def test_a_refund_made_in_stripes_dashboard_reaches_the_ledger_once(
    personas: Personas, stripe_double: StripeDouble
) -> None:
    payment, session = _paid(personas, stripe_double)
    refunded = stripe_double.refund_in_dashboard(session, 1_000)
    assert _deliver(refunded).status_code == 200
    assert _deliver(refunded).status_code == 200  # delivered twice: one refund
    refund = Refund.objects.get()
    assert (refund.payment_id, refund.amount_cents) == (payment.pk, 1_000)
    assert refund.provider_reference == stripe_double.refunds[0]["id"]
    assert patient_balance(personas.pat).due == 1_000
    # a second dashboard refund: the event lists both, only the new one is recorded
    _deliver(stripe_double.refund_in_dashboard(session, 500))
    assert sorted(Refund.objects.values_list("amount_cents", flat=True)) == [500, 1_000]


def test_a_refund_from_the_ledger_reported_back_by_stripe_is_not_doubled(
    personas: Personas, stripe_double: StripeDouble, client_for: Any
) -> None:
    payment, session = _paid(personas, stripe_double)
    body = {f"refund-{payment.pk}-amount": "10.00", f"refund-{payment.pk}-reason": "Charged twice"}
    client_for(personas.billing_a).post(reverse("billing:refund", args=[payment.pk]), body)
    assert _deliver(stripe_double.charge_refunded(session)).status_code == 200
    assert _deliver(stripe_double.charge_refunded(session, list_refunds=False)).status_code == 200
    assert list(Refund.objects.values_list("amount_cents", flat=True)) == [1_000]


def test_without_the_list_of_refunds_the_total_refunded_is_recorded_once(
    personas: Personas, stripe_double: StripeDouble
) -> None:
    _, session = _paid(personas, stripe_double)
    stripe_double.refund_in_dashboard(session, 700)
    for _ in range(2):
        assert _deliver(stripe_double.charge_refunded(session, list_refunds=False)).status_code == 200
    assert list(Refund.objects.values_list("amount_cents", flat=True)) == [700]


def test_a_forged_or_malformed_refund_event_changes_nothing(
    personas: Personas, stripe_double: StripeDouble
) -> None:
    _, session = _paid(personas, stripe_double)
    refunded = stripe_double.refund_in_dashboard(session, 1_000)
    assert _deliver(refunded, secret="whsec_forged").status_code == 403
    broken = stripe_double.charge_refunded(session)
    broken["data"]["object"]["refunds"]["data"][0]["amount"] = "lots"
    assert _deliver(broken).status_code == 400
    assert not Refund.objects.exists()


def test_a_card_dispute_is_a_worklist_task_and_a_lost_one_a_refund_on_the_ledger(
    personas: Personas, stripe_double: StripeDouble
) -> None:
    from careline.billing.models import BillingTask, Dispute

    payment, session = _paid(personas, stripe_double)
    for _ in range(2):  # duplicated: one task
        assert _deliver(stripe_double.dispute(session, amount=2_500)).status_code == 200
    task = BillingTask.objects.get()
    assert (task.kind, task.state, task.patient_id) == ("dispute", "open", personas.pat.pk)
    assert Dispute.objects.get().is_open
    assert not Refund.objects.exists()
    for _ in range(2):
        assert _deliver(stripe_double.dispute(session, amount=2_500, status="lost")).status_code == 200
    task.refresh_from_db()
    assert task.state == "done" and "lost" in task.outcome
    refund = Refund.objects.get()
    assert (refund.payment_id, refund.amount_cents) == (payment.pk, 2_500)
    assert not Dispute.objects.get().is_open
    assert patient_balance(personas.pat).due == 2_500


def test_a_won_dispute_closes_the_task_and_leaves_the_payment(
    personas: Personas, stripe_double: StripeDouble
) -> None:
    from careline.billing.models import BillingTask

    _paid(personas, stripe_double)
    session = next(iter(stripe_double.sessions))
    _deliver(stripe_double.dispute(session, amount=2_500, status="won"))  # closed arriving first
    assert BillingTask.objects.get().state == "done" and not Refund.objects.exists()
    assert patient_balance(personas.pat).due == 0
