"""The billing pages: who may see and record what, what is audited, and the ledger's constant query count."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from careline.billing.models import BalanceAdjustment, Payment, Refund, SelfPayVisit
from careline.billing.services.payments import balance_adjust, payment_record, refund_record
from careline.billing.tests.support import charge_on, owing, paid_claim, visit_of
from careline.core.actor import Actor
from careline.core.models import AuditEntry
from careline.testing.personas import Personas

pytestmark = pytest.mark.django_db

Clients = Callable[[Any], Client]
ROLES = ("admin", "front_a", "clinician_a", "billing_a", "front_b", None)


def _user(personas: Personas, role: str | None) -> Any:
    return None if role is None else getattr(personas, role)


def _refused(response: Any) -> bool:
    return response.status_code in (403, 404) or (
        response.status_code == 302 and "/accounts/login" in response["Location"]
    )


def _outcomes(
    personas: Personas, client_for: Clients, send: Callable[[Client], Any]
) -> dict[str | None, bool]:
    """{role: allowed} for SEND made by each persona and an outsider."""
    return {role: not _refused(send(client_for(_user(personas, role)))) for role in ROLES}


def test_the_ledger_is_for_billing_staff_and_administrators_of_the_patients_location(
    personas: Personas, client_for: Clients
) -> None:
    owing(personas, 2_500)
    url = reverse("billing:ledger", args=[personas.pat.pk])
    assert _outcomes(personas, client_for, lambda c: c.get(url)) == {
        "admin": True, "front_a": False, "clinician_a": False, "billing_a": True, "front_b": False, None: False,
    }  # fmt: skip


def test_the_desk_payment_page_is_for_the_front_desk_billing_and_administrators(
    personas: Personas, client_for: Clients
) -> None:
    owing(personas, 2_500)
    url = reverse("billing:payment_record", args=[personas.pat.pk])
    assert _outcomes(personas, client_for, lambda c: c.get(url)) == {
        "admin": True, "front_a": True, "clinician_a": False, "billing_a": True, "front_b": False, None: False,
    }  # fmt: skip


def test_refunds_and_adjustments_are_recorded_by_billing_staff_and_self_pay_by_administrators(
    personas: Personas, client_for: Clients
) -> None:
    visit = owing(personas, 2_500)
    payment = payment_record(
        patient=personas.pat, amount_cents=2_000, method="cash", actor=Actor.staff(personas.admin)
    )
    refund = reverse("billing:refund", args=[payment.pk])
    adjust = reverse("billing:adjust", args=[personas.pat.pk])
    self_pay = reverse("billing:self_pay", args=[visit.pk])
    refund_body = {f"refund-{payment.pk}-amount": "1.00", f"refund-{payment.pk}-reason": "Overcharged"}
    adjust_body = {"adjustment-kind": "credit", "adjustment-amount": "1.00", "adjustment-reason": "Goodwill"}
    assert _outcomes(personas, client_for, lambda c: c.post(refund, refund_body)) == {
        "admin": True, "front_a": False, "clinician_a": False, "billing_a": True, "front_b": False, None: False,
    }  # fmt: skip
    assert _outcomes(personas, client_for, lambda c: c.post(adjust, adjust_body)) == {
        "admin": True, "front_a": False, "clinician_a": False, "billing_a": True, "front_b": False, None: False,
    }  # fmt: skip
    assert Refund.objects.count() == 2 and BalanceAdjustment.objects.count() == 2
    assert _outcomes(personas, client_for, lambda c: c.post(self_pay, {})) == {
        "admin": True, "front_a": False, "clinician_a": False, "billing_a": False, "front_b": False, None: False,
    }  # fmt: skip
    assert SelfPayVisit.objects.filter(visit=visit).exists()
    for url in (refund, adjust, self_pay):
        assert client_for(personas.admin).get(url).status_code == 405


def test_the_front_desk_takes_a_payment_and_goes_back_to_the_patient(
    personas: Personas, client_for: Clients
) -> None:
    owing(personas, 2_500)
    client = client_for(personas.front_a)
    url = reverse("billing:payment_record", args=[personas.pat.pk])
    page = client.get(url)
    assert "$25.00" in page.content.decode()
    assert "Owed after insurance" not in page.content.decode()  # the balance due only
    response = client.post(
        url, {"payment-amount": "20.00", "payment-method": "card_terminal", "payment-reference": "R-1"}
    )
    assert response.status_code == 302 and response["Location"] == reverse(
        "patients:detail", args=[personas.pat.pk]
    )
    payment = Payment.objects.get()
    assert (payment.amount_cents, payment.method, payment.reference, payment.recorded_by) == (
        2_000, "card_terminal", "R-1", personas.front_a,
    )  # fmt: skip


def test_a_payment_above_the_balance_due_is_refused_with_a_clear_message(
    personas: Personas, client_for: Clients
) -> None:
    owing(personas, 2_500)
    url = reverse("billing:payment_record", args=[personas.pat.pk])
    for amount, message in (
        ("25.01", "more than the balance due ($25.00)"),
        ("-5", "more than zero"),
        ("abc", "such as 25.00"),
    ):
        response = client_for(personas.front_a).post(
            url, {"payment-amount": amount, "payment-method": "cash"}
        )
        assert response.status_code == 400
        assert message in response.content.decode()
    assert not Payment.objects.exists()


def test_a_refund_beyond_the_payment_is_refused_and_the_ledger_says_why(
    personas: Personas, client_for: Clients
) -> None:
    owing(personas, 2_500)
    payment = payment_record(
        patient=personas.pat, amount_cents=1_000, method="cash", actor=Actor.staff(personas.admin)
    )
    client = client_for(personas.billing_a)
    response = client.post(
        reverse("billing:refund", args=[payment.pk]),
        {f"refund-{payment.pk}-amount": "10.01", f"refund-{payment.pk}-reason": "Too much"},
        follow=True,
    )
    assert "Nothing was recorded: Only $10.00 of this payment is left to refund." in response.content.decode()
    assert not Refund.objects.exists()


def test_reading_the_ledger_and_the_payment_page_is_audited(personas: Personas, client_for: Clients) -> None:
    owing(personas, 2_500)
    client = client_for(personas.billing_a)
    client.get(reverse("billing:ledger", args=[personas.pat.pk]))
    client.get(reverse("billing:payment_record", args=[personas.pat.pk]))
    entries = AuditEntry.objects.filter(actor=personas.billing_a, patient_id=personas.pat.pk, action="view")
    assert list(entries.order_by("pk").values_list("detail", flat=True)) == [
        "billing ledger",
        "balance due (desk payment)",
    ]


def test_the_ledger_shows_charges_by_visit_with_what_insurance_decided(
    personas: Personas, client_for: Clients
) -> None:
    visit = visit_of(personas)
    charge = charge_on(personas, visit, 12_000, units=2)
    paid_claim(personas, visit, charge, copay=2_500, coinsurance=1_000)
    payment_record(
        patient=personas.pat,
        amount_cents=1_500,
        method="check",
        reference="1042",
        actor=Actor.staff(personas.admin),
    )
    page = (
        client_for(personas.billing_a).get(reverse("billing:ledger", args=[personas.pat.pk])).content.decode()
    )
    for text in (
        "$240.00",
        "Acme Health",
        "allowed $192.00",
        "copay $25.00",
        "Ready for a statement",
        "1042",
    ):
        assert text in page
    assert '<strong id="balance-due">$20.00</strong>' in page
    assert "Mark visit self-pay" not in page  # administrators only


def _ledger_with(personas: Personas, visits: int) -> None:
    for day in range(visits):
        visit = visit_of(personas, days=day)
        charge = charge_on(personas, visit, 10_000)
        charge_on(personas, visit, 2_000, code="36415")
        paid_claim(personas, visit, charge, copay=1_000)
    for _ in range(visits):
        payment = payment_record(
            patient=personas.pat, amount_cents=100, method="cash", actor=Actor.staff(personas.admin)
        )
        refund_record(payment=payment, amount_cents=10, reason="x", actor=Actor.staff(personas.admin))
        balance_adjust(
            patient=personas.pat, kind="credit", amount_cents=5, reason="x", actor=Actor.staff(personas.admin)
        )


def test_the_ledger_costs_the_same_queries_for_one_visit_or_many(
    personas: Personas, client_for: Clients, django_assert_num_queries: Any
) -> None:
    client = client_for(personas.admin)
    url = reverse("billing:ledger", args=[personas.pat.pk])
    _ledger_with(personas, 1)
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    _ledger_with(personas, 6)
    with django_assert_num_queries(len(one.captured_queries)):
        assert client.get(url).status_code == 200


# --- the Balance card on the patient page and in the inbox's patient panel ---------------------------------------


def test_the_patient_page_shows_the_balance_to_billing_the_amount_due_to_the_front_desk_and_nothing_to_clinicians(
    personas: Personas, client_for: Clients
) -> None:
    owing(personas, 2_500)
    url = reverse("patients:detail", args=[personas.pat.pk])
    billing = client_for(personas.billing_a).get(url).content.decode()
    assert (
        'id="section-balance-title"' in billing
        and "Owed after insurance" in billing
        and "Billing ledger" in billing
    )
    front = client_for(personas.front_a).get(url).content.decode()
    assert 'id="section-balance-title"' in front and "$25.00" in front and "Take a payment" in front
    assert "Owed after insurance" not in front and "Billing ledger" not in front
    clinician = client_for(personas.clinician_a).get(url).content.decode()
    assert 'id="section-balance-title"' not in clinician and "$25.00" not in clinician
    details = dict(
        AuditEntry.objects.filter(patient_id=personas.pat.pk, detail__startswith="patient page").values_list(
            "actor__email", "detail"
        )
    )
    assert details[personas.billing_a.email].endswith("sections: balance")
    assert "balance" not in details[personas.clinician_a.email]


def test_the_inbox_panel_shows_the_open_balance_to_those_allowed(
    personas: Personas, client_for: Clients
) -> None:
    from careline.messaging.tests.inbox_support import PAT_NUMBER, texted_by

    owing(personas, 2_500)
    conversation = texted_by(PAT_NUMBER)
    url = reverse("messaging:conversation", args=[conversation.pk])
    for user, shown in ((personas.billing_a, True), (personas.front_a, True), (personas.clinician_a, False)):
        page = client_for(user).get(url).content.decode()
        assert ('id="panel-balance"' in page) is shown, user
        assert ("$25.00" in page) is shown


def test_the_audit_trail_tells_a_payment_in_words_with_a_link_to_the_ledger(personas: Personas) -> None:
    from careline.core.queries.audit_lines import audit_line_text, audit_lines

    owing(personas, 2_500)
    payment = payment_record(
        patient=personas.pat, amount_cents=1_000, method="cash", actor=Actor.staff(personas.front_a)
    )
    entry = AuditEntry.objects.get(object_type="billing.payment", object_id=str(payment.pk))
    parts = audit_lines([entry])[entry.pk]
    assert audit_line_text(parts) == "Frankie Front created Pat Ortega’s payment"
    assert reverse("billing:ledger", args=[personas.pat.pk]) in {part.url for part in parts}


def test_a_payment_when_nothing_is_due_says_so(personas: Personas, client_for: Clients) -> None:
    url = reverse("billing:payment_record", args=[personas.pat.pk])
    assert "Nothing is due" in client_for(personas.front_a).get(url).content.decode()
    response = client_for(personas.front_a).post(url, {"payment-amount": "5.00", "payment-method": "cash"})
    assert response.status_code == 400 and "owes nothing now" in response.content.decode()
    assert not Payment.objects.exists()
