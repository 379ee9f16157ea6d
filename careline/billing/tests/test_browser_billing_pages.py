"""The billing pages in a real browser: no serious axe-core violation and no sideways scrolling on a phone,
for the ledger (with every kind of row and form) and the desk payment page; a desk payment taken end to end."""

from __future__ import annotations

from typing import Any

import pytest

from careline.billing.models import Payment
from careline.billing.services.charges import visit_mark_self_pay
from careline.billing.services.payments import balance_adjust, payment_record, refund_record
from careline.billing.tests.support import charge_on, owing, visit_of
from careline.core.actor import Actor
from careline.testing.accessibility import PHONE_VIEWPORT, horizontal_overflow, serious_axe_violations
from careline.testing.browser import (
    browser_controls_out_of_view,
    browser_sideways_overflow,
    browser_sign_in,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _account(personas: Any) -> None:
    owing(personas, 4_000)
    other = visit_of(personas, days=1)
    charge_on(personas, other, 9_000)
    visit_mark_self_pay(visit=other, reason="No insurance", actor=Actor.staff(personas.admin))
    admin = Actor.staff(personas.admin)
    payment = payment_record(
        patient=personas.pat, amount_cents=2_000, method="check", reference="1042", actor=admin
    )
    refund_record(payment=payment, amount_cents=500, reason="Overcharged", actor=admin)
    balance_adjust(patient=personas.pat, kind="write_off", amount_cents=300, reason="Hardship", actor=admin)
    balance_adjust(patient=personas.pat, kind="credit", amount_cents=200, reason="Wait", actor=admin)


# The patient page too: its Balance card, as billing staff see it.
@pytest.mark.parametrize("name", ["billing:ledger", "billing:payment_record", "patients:detail"])
def test_billing_pages_pass_axe_and_fit_a_phone(
    browser_page: Any, live_server: Any, personas: Any, name: str
) -> None:
    from django.urls import reverse

    _account(personas)
    page = browser_page
    browser_sign_in(page, live_server.url, personas.billing_a)
    page.goto(f"{live_server.url}{reverse(name, args=[personas.pat.pk])}")
    page.wait_for_load_state("networkidle")
    assert [v.describe(name) for v in serious_axe_violations(page)] == []
    page.set_viewport_size(PHONE_VIEWPORT)
    page.reload()
    page.wait_for_load_state("networkidle")
    assert horizontal_overflow(page) is None
    assert [v.describe(name) for v in serious_axe_violations(page)] == []


def test_the_front_desk_takes_a_payment_from_the_balance_card(
    browser_page: Any, live_server: Any, personas: Any
) -> None:
    from django.urls import reverse

    owing(personas, 2_500)
    page = browser_page
    browser_sign_in(page, live_server.url, personas.front_a)
    page.goto(f"{live_server.url}{reverse('patients:detail', args=[personas.pat.pk])}")
    page.get_by_role("link", name="Take a payment").click()
    page.get_by_label("Amount").fill("25.00")
    page.get_by_label("Paid by").select_option("card_terminal")
    page.get_by_role("button", name="Record payment").click()
    page.wait_for_url(f"**{reverse('patients:detail', args=[personas.pat.pk])}")
    assert "Payment of $25.00 recorded" in page.content()
    assert Payment.objects.get().amount_cents == 2_500


def test_the_billing_worklist_is_a_card_per_task_on_a_phone(
    browser_page: Any, live_server: Any, personas: Any
) -> None:
    """At 390 px the tasks' actions (assign, note, close) stay on screen: no table scrolled to the side."""
    from django.urls import reverse

    from careline.billing.models import BillingTask, TaskKind
    from careline.billing.tests.collections_support import statement_issued

    owing(personas, 4_000)
    statement = statement_issued(personas.pat)
    BillingTask.objects.create(
        patient=personas.pat, kind=TaskKind.CALL, statement=statement, created_at=statement.issued_at
    )
    page = browser_page
    page.set_viewport_size(PHONE_VIEWPORT)
    browser_sign_in(page, live_server.url, personas.billing_a)
    page.goto(f"{live_server.url}{reverse('billing:worklist')}")
    page.wait_for_load_state("networkidle")
    assert browser_sideways_overflow(page) == 0
    assert browser_controls_out_of_view(page) == []
    assert [v.describe("billing worklist") for v in serious_axe_violations(page)] == []
