"""The built-in test provider: a labelled test page that pays or declines by card number, reporting through
its signed webhook, and a webhook that refuses anything it did not sign."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from careline.billing.models import CheckoutState, Payment, PaymentCheckout, PaymentMethod
from careline.billing.providers import Checkout
from careline.billing.providers.test_provider import card_event_sign
from careline.billing.queries import patient_balance
from careline.billing.tests.payments_support import pat_checkout, start
from careline.billing.tests.support import owing
from careline.messaging.models import Message
from careline.patients.models import Purpose
from careline.testing.personas import Personas

pytestmark = pytest.mark.django_db

WEBHOOK = "/billing/providers/test/webhook"


def _page(personas: Personas, cents: int = 2_500) -> tuple[str, PaymentCheckout]:
    owing(personas, cents)
    started = start(pat_checkout(personas, cents))
    return started.redirect_url.removeprefix(settings.PUBLIC_BASE_URL), PaymentCheckout.objects.get()


def test_the_test_provider_is_the_default(personas: Personas) -> None:
    owing(personas, 2_500)
    started = start(pat_checkout(personas, 2_500))
    assert "/billing/providers/test/checkout/co_" in started.redirect_url
    assert started.provider_reference.startswith("test_cs_")


def test_the_page_says_it_is_a_test_and_shows_only_the_amount_and_description(personas: Personas) -> None:
    url, _ = _page(personas)
    page = Client().get(url).content.decode()
    assert "Test payment page" in page and "No money moves" in page
    assert "$25.00" in page and "Statement S-000001" in page
    assert "Ortega" not in page and "Patricia" not in page


def test_the_paying_test_card_records_the_payment_and_sends_a_receipt(
    personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    url, row = _page(personas)
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(url, {"card_number": "4242 4242 4242 4242"})
    assert response.status_code == 200
    assert "Payment received" in response.content.decode()
    row.refresh_from_db()
    payment = Payment.objects.get()
    assert (row.state, row.payment_id) == (CheckoutState.PAID, payment.pk)
    assert (payment.method, payment.provider, payment.amount_cents) == (PaymentMethod.ONLINE, "test", 2_500)
    assert patient_balance(personas.pat).due == 0
    assert Message.objects.filter(idempotency_key=f"receipt:{payment.pk}", purpose=Purpose.BILLING).exists()
    # Paying again on the same page records nothing more.
    again = Client().post(url, {"card_number": "4242424242424242"})
    assert "Payment received" in again.content.decode() and Payment.objects.count() == 1


def test_the_declining_test_card_records_nothing(personas: Personas) -> None:
    url, row = _page(personas)
    response = Client().post(url, {"card_number": "4000 0000 0000 0002"})
    assert "declined" in response.content.decode()
    row.refresh_from_db()
    assert row.state == CheckoutState.DECLINED and Payment.objects.count() == 0
    # Billing staff see the failed payment on their worklist, once however often the provider says so.
    Client().post(url, {"card_number": "4000 0000 0000 0002"})
    from careline.billing.models import BillingTask, TaskKind

    assert list(BillingTask.objects.values_list("kind", "patient_id")) == [
        (TaskKind.FAILED_PAYMENT, personas.pat.pk)
    ]
    # The payer may try another card.
    Client().post(url, {"card_number": "4242424242424242"})
    row.refresh_from_db()
    assert row.state == CheckoutState.PAID


@pytest.mark.parametrize("number", ["", "1234", "4111 1111 1111 1111", "x" * 40, "4242<script>"])
def test_any_other_card_number_is_refused_with_a_message(personas: Personas, number: str) -> None:
    url, row = _page(personas)
    response = Client().post(url, {"card_number": number})
    assert response.status_code == 400
    assert "test page" in response.content.decode() or "required" in response.content.decode()
    row.refresh_from_db()
    assert row.state == CheckoutState.STARTED and Payment.objects.count() == 0


def test_an_unknown_checkout_shows_nothing(personas: Personas) -> None:
    response = Client().get("/billing/providers/test/checkout/co_nobody/")
    assert response.status_code == 404
    assert "does not work" in response.content.decode()
    assert Client().post("/billing/providers/test/checkout/" + "x" * 300 + "/", {}).status_code == 404


def _event(row: PaymentCheckout, **extra: Any) -> bytes:
    return json.dumps(
        {"type": "payment.succeeded", "checkout": row.reference, "payment": "test_pay_1", "amount_cents": 2_500,
         **extra}
    ).encode()  # fmt: skip


def test_a_signed_event_records_the_payment_once(personas: Personas) -> None:
    _, row = _page(personas)
    body = _event(row)
    for _ in range(2):
        response = Client().post(WEBHOOK, body, content_type="application/json",
                                 HTTP_CARELINE_TEST_SIGNATURE=card_event_sign(body))  # fmt: skip
        assert response.status_code == 200
    assert Payment.objects.count() == 1


@pytest.mark.parametrize(
    "case", ["forged", "stale", "unsigned", "garbage", "no-amount", "bool-amount", "list"]
)
def test_the_webhook_refuses_what_it_did_not_sign_or_cannot_read(personas: Personas, case: str) -> None:
    _, row = _page(personas)
    body = _event(row)
    header = card_event_sign(body)
    if case == "forged":
        header = header[:-4] + "0000"
    elif case == "stale":
        header = card_event_sign(body, timestamp=int(time.time()) - 3_600)
    elif case == "unsigned":
        header = ""
    elif case == "garbage":
        body = b"\xff{]"
        header = card_event_sign(body)
    elif case == "no-amount":
        body = _event(row, amount_cents=None)
        header = card_event_sign(body)
    elif case == "bool-amount":
        body = _event(row, amount_cents=True)
        header = card_event_sign(body)
    else:
        body = b"[1, 2]"
        header = card_event_sign(body)
    client = Client(raise_request_exception=False)
    response = client.post(
        WEBHOOK, body, content_type="application/json", HTTP_CARELINE_TEST_SIGNATURE=header
    )
    # Not signed by this Careline: 403; signed but unreadable: 400.
    assert response.status_code == (403 if case in ("forged", "stale", "unsigned") else 400)
    assert Payment.objects.count() == 0


def test_the_webhook_takes_only_post() -> None:
    assert Client().get(WEBHOOK).status_code == 405


def test_a_refund_of_a_test_payment_goes_through_the_test_provider(
    personas: Personas, client_for: Any
) -> None:
    from django.urls import reverse

    from careline.billing.models import Refund

    url, _ = _page(personas)
    Client().post(url, {"card_number": "4242424242424242"})
    payment = Payment.objects.get()
    body = {f"refund-{payment.pk}-amount": "5.00", f"refund-{payment.pk}-reason": "Goodwill"}
    client_for(personas.billing_a).post(reverse("billing:refund", args=[payment.pk]), body)
    assert Refund.objects.get().provider_reference.startswith("test_re_")


def test_a_refund_of_a_payment_whose_provider_is_gone_is_refused_with_a_message(
    personas: Personas, client_for: Any, settings: Any
) -> None:
    from django.urls import reverse
    from django.utils import timezone

    from careline.billing.models import Refund

    owing(personas, 2_500)
    payment = Payment.objects.create(
        patient=personas.pat, amount_cents=2_500, method="online", provider="acme", provider_reference="a1",
        received_at=timezone.now(),
    )  # fmt: skip
    body = {f"refund-{payment.pk}-amount": "5.00", f"refund-{payment.pk}-reason": "Goodwill"}
    page = client_for(personas.billing_a).post(
        reverse("billing:refund", args=[payment.pk]), body, follow=True
    )
    assert "is not installed" in page.content.decode() and Refund.objects.count() == 0


def test_the_receipt_of_a_statement_paid_online_goes_to_its_guarantor(personas: Personas) -> None:
    from datetime import date

    from django.utils import timezone

    from careline.billing.models import Statement
    from careline.billing.services.receipts import receipt_payer

    owing(personas, 2_500, personas.quinn)
    statement = Statement.objects.create(
        patient=personas.quinn, guarantor=personas.pat, statement_date=date(2030, 3, 5), due_date=date(2030, 4, 4),
        amount_due_cents=2_500, channel="email", issued_at=timezone.now(),
    )  # fmt: skip
    checkout = Checkout(
        patient_id=personas.quinn.pk, amount_cents=2_500, currency="USD", description="Statement",
        success_url="http://testserver/", cancel_url="http://testserver/", idempotency_key="g1",
        statement_id=statement.pk,
    )  # fmt: skip
    started = start(checkout)
    Client().post(
        started.redirect_url.removeprefix(settings.PUBLIC_BASE_URL), {"card_number": "4242424242424242"}
    )
    payment = Payment.objects.get()
    assert payment.patient_id == personas.quinn.pk
    assert receipt_payer(payment) == personas.pat
