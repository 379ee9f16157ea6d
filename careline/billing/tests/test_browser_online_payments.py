"""Online payment pages in a real browser: the test provider's labelled page paid end to end with the test
card, and the printable receipt; no serious axe-core violation, no sideways scrolling on a phone."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings

from careline.billing.models import Payment
from careline.billing.services.payments import payment_record
from careline.billing.tests.payments_support import pat_checkout, start
from careline.billing.tests.support import owing
from careline.core.actor import Actor
from careline.testing.accessibility import PHONE_VIEWPORT, horizontal_overflow, serious_axe_violations
from careline.testing.browser import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fits(page: Any, what: str) -> None:
    assert [v.describe(what) for v in serious_axe_violations(page)] == []
    page.set_viewport_size(PHONE_VIEWPORT)
    page.reload()
    page.wait_for_load_state("networkidle")
    assert horizontal_overflow(page) is None
    assert [v.describe(what) for v in serious_axe_violations(page)] == []


def test_a_payer_pays_on_the_test_page_with_the_test_card(
    browser_page: Any, live_server: Any, personas: Any
) -> None:
    owing(personas, 2_500)
    started = start(pat_checkout(personas, 2_500))
    page = browser_page
    page.goto(live_server.url + started.redirect_url.removeprefix(settings.PUBLIC_BASE_URL))
    assert "Test payment page." in page.content()
    _fits(page, "test checkout")
    page.get_by_label("Test card number").fill("4242 4242 4242 4242")
    page.get_by_role("button", name="Pay $25.00 (test)").click()
    page.wait_for_load_state("networkidle")
    assert "Payment received" in page.content()
    assert Payment.objects.get().provider == "test"


def test_the_receipt_page_passes_axe_and_fits_a_phone(
    browser_page: Any, live_server: Any, personas: Any
) -> None:
    from django.urls import reverse

    owing(personas, 2_500)
    payment = payment_record(
        patient=personas.pat, amount_cents=2_500, method="cash", actor=Actor.staff(personas.front_a)
    )
    page = browser_page
    browser_sign_in(page, live_server.url, personas.front_a)
    page.goto(f"{live_server.url}{reverse('billing:receipt', args=[payment.pk])}")
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("button", name="Print receipt").is_visible()
    _fits(page, "receipt")
