"""The pay page: nothing before the date of birth, refusals that show nothing (expired, tampered, another
patient's, voided), wrong tries limited, a fresh link to the channel on file, and the Pay button."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest
from django.test import Client, override_settings

from careline.billing.models import StatementEventKind
from careline.billing.paylinks import pay_link_path
from careline.billing.providers import Checkout, CheckoutStarted, PaymentProvider, PaymentProviderError
from careline.billing.services.payments import payment_record
from careline.billing.services.statements import statement_issue, statement_void
from careline.billing.tests.statement_support import billing_consent, issued
from careline.billing.tests.support import billing_actor
from careline.core.models import ActorKind, AuditEntry
from careline.messaging.models import Message
from careline.testing.personas import Personas

NOW = datetime(2030, 3, 12, 19, 0, tzinfo=UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.clock(NOW), pytest.mark.usefixtures("clock")]
PAT_BIRTH = "1980-04-12"


class FakeProvider(PaymentProvider):
    code = "fake"
    name = "Fake"
    started: ClassVar[list[Checkout]] = []
    fail: ClassVar[bool] = False

    def checkout_start(self, checkout: Checkout) -> CheckoutStarted:
        if FakeProvider.fail:
            raise PaymentProviderError("The card service is down.")
        FakeProvider.started.append(checkout)
        return CheckoutStarted(redirect_url="https://pay.example.test/c/1", provider_reference="c_1")

    def refund(self, *, provider_reference: str, amount_cents: int, idempotency_key: str) -> str:
        raise PaymentProviderError("The fake provider gives nothing back.")


FAKE = override_settings(
    CARELINE_PAYMENT_PROVIDERS=["careline.billing.tests.test_pay_page.FakeProvider"],
    CARELINE_PAYMENT_PROVIDER="fake",
)


def _verified(client: Client, path: str, birth: str = PAT_BIRTH) -> None:
    response = client.post(path, {"date_of_birth": birth})
    assert response.status_code == 302, response.content.decode()[:500]


def test_nothing_is_shown_before_the_date_of_birth(personas: Personas) -> None:
    statement = issued(personas)
    page = Client().get(pay_link_path(statement)).content.decode()
    assert "Date of birth" in page
    for secret in ("$25.00", "Office visit", "Patricia", "Ortega", statement.number):
        assert secret not in page


def test_the_right_date_of_birth_shows_the_statement_and_the_balance_now(personas: Personas) -> None:
    statement = issued(personas, 4_000)
    payment_record(patient=personas.pat, amount_cents=1_000, method="cash", actor=billing_actor(personas))
    client, path = Client(), pay_link_path(statement)
    _verified(client, path)
    page = client.get(path)
    text = page.content.decode()
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert statement.number in text and "Office visit" in text
    assert "$40.00" in text and "$30.00" in text  # the statement's amount and the balance due now
    assert statement.events.filter(kind=StatementEventKind.VIEWED).exists()
    assert AuditEntry.objects.filter(
        object_type="billing.statement", patient_id=personas.pat.pk, actor_kind=ActorKind.PATIENT
    ).exists()


def test_wrong_dates_of_birth_are_refused_then_the_link_pauses(personas: Personas) -> None:
    statement = issued(personas)
    client, path = Client(), pay_link_path(statement)
    for _ in range(5):
        response = client.post(path, {"date_of_birth": "1999-01-01"})
        assert response.status_code == 400 and "$25.00" not in response.content.decode()
    blocked = client.post(path, {"date_of_birth": PAT_BIRTH})
    assert blocked.status_code == 429 and "Too many wrong tries" in blocked.content.decode()


@pytest.mark.parametrize("body", [{}, {"date_of_birth": "not a date"}, {"date_of_birth": "99999-99-99"}])
def test_bad_input_is_a_clear_400(personas: Personas, body: dict[str, str]) -> None:
    statement = issued(personas)
    assert Client().post(pay_link_path(statement), body).status_code == 400


def test_a_tampered_or_unknown_link_shows_nothing(personas: Personas) -> None:
    statement = issued(personas)
    path = pay_link_path(statement)
    for bad in (path[:-3] + "xx/", "/pay/nonsense/", "/pay/" + "a" * 300 + "/"):
        response = Client().get(bad)
        text = response.content.decode()
        assert response.status_code == 404 and "does not work" in text and "Date of birth" not in text
        assert Client().post(bad.rstrip("/") + "/fresh-link").status_code == 404


def test_another_patients_link_never_opens_with_this_patients_birth_date(personas: Personas) -> None:
    quinns = issued(personas, 1_000, personas.quinn)
    client, path = Client(), pay_link_path(quinns)
    assert client.post(path, {"date_of_birth": PAT_BIRTH}).status_code == 400
    assert "$10.00" not in client.get(path).content.decode()


def test_a_link_whose_payer_changed_shows_nothing(personas: Personas) -> None:
    statement = issued(personas)
    path = pay_link_path(statement)
    statement.guarantor = personas.quinn  # the link was made for Pat as payer
    statement.save()
    assert Client().get(path).status_code == 404


def test_an_expired_link_offers_a_fresh_one_sent_to_the_channel_on_file(personas: Personas, clock) -> None:
    billing_consent(personas)
    statement = issued(personas)
    path = pay_link_path(statement)
    clock.move_to(NOW + timedelta(days=31))
    response = Client().get(path)
    assert (
        response.status_code == 410
        and "expired" in response.content.decode()
        and "$25.00" not in response.content.decode()
    )
    before = Message.objects.count()
    answer = Client().post(path + "fresh-link", {"email": "attacker@example.test"})
    assert answer.status_code == 410 and "fresh link is on its way" in answer.content.decode()
    fresh = Message.objects.order_by("-pk").first()
    assert Message.objects.count() == before + 1 and fresh is not None
    assert fresh.to_address == "+13125550111" and "/pay/" in fresh.body
    for _ in range(5):
        Client().post(path + "fresh-link")
    assert Message.objects.count() == before + 3  # three an hour


def test_a_voided_statements_link_shows_nothing_and_sends_nothing(personas: Personas) -> None:
    statement = issued(personas)
    path = pay_link_path(statement)
    statement_void(statement=statement, reason="Error", actor=billing_actor(personas))
    assert Client().get(path).status_code == 410
    before = Message.objects.count()
    Client().post(path + "fresh-link")
    assert Message.objects.count() == before


def test_a_superseded_statements_link_asks_for_a_fresh_one(personas: Personas) -> None:
    statement = issued(personas)
    path = pay_link_path(statement)
    statement_issue(patient=personas.pat, actor=billing_actor(personas))
    response = Client().get(path)
    assert response.status_code == 410 and "newer statement" in response.content.decode()


@FAKE
def test_pay_starts_the_providers_checkout_for_the_balance_due_now(personas: Personas) -> None:
    FakeProvider.started.clear()
    statement = issued(personas, 4_000)
    payment_record(patient=personas.pat, amount_cents=500, method="cash", actor=billing_actor(personas))
    client, path = Client(), pay_link_path(statement)
    assert client.post(path + "checkout").status_code == 302  # back to the date of birth
    assert FakeProvider.started == []
    _verified(client, path)
    response = client.post(path + "checkout")
    assert response.status_code == 302 and response["Location"] == "https://pay.example.test/c/1"
    checkout = FakeProvider.started[0]
    assert (checkout.patient_id, checkout.amount_cents, checkout.statement_id) == (
        personas.pat.pk,
        3_500,
        statement.pk,
    )
    assert checkout.description == f"Statement {statement.number}"
    assert checkout.success_url.endswith(path + "?paid=1")


@FAKE
def test_a_provider_failure_is_a_clear_message(personas: Personas) -> None:
    statement = issued(personas)
    client, path = Client(), pay_link_path(statement)
    _verified(client, path)
    FakeProvider.fail = True
    try:
        response = client.post(path + "checkout")
    finally:
        FakeProvider.fail = False
    assert response.status_code == 409 and "The card service is down." in response.content.decode()


def test_without_a_provider_the_page_says_to_call(personas: Personas, settings: Any) -> None:
    settings.CARELINE_PAYMENT_PROVIDERS = []  # none installed
    statement = issued(personas)
    client, path = Client(), pay_link_path(statement)
    _verified(client, path)
    response = client.post(path + "checkout")
    assert response.status_code == 409 and "call the clinic" in response.content.decode()


def test_spanish_payers_read_the_page_in_spanish(personas: Personas) -> None:
    statement = issued(personas, 1_000, personas.quinn)
    assert "Fecha de nacimiento" in Client().get(pay_link_path(statement)).content.decode()


@FAKE
def test_with_an_active_plan_the_page_offers_this_months_instalment(personas: Personas) -> None:
    from datetime import date

    from careline.billing.services.plans import plan_create

    FakeProvider.started.clear()
    statement = issued(personas, 30_001)
    client, path = Client(), pay_link_path(statement)
    _verified(client, path)
    assert "instalment" not in client.get(path).content.decode()  # no plan: the whole balance only
    plan = plan_create(
        statement=statement, instalments=3, first_due=date(2030, 4, 15), actor=billing_actor(personas)
    )
    payment_record(patient=personas.pat, amount_cents=1, method="cash", actor=billing_actor(personas))
    page = client.get(path).content.decode()
    assert "Pay this month's instalment ($100.00)" in page and "Pay $300.00" in page
    assert client.post(path + "checkout", {"part": "instalment"}).status_code == 302
    first = plan.instalments.get(number=1)
    checkout = FakeProvider.started[-1]
    assert (checkout.amount_cents, checkout.instalment_id) == (10_000, first.pk)
    assert client.post(path + "checkout", {"part": "balance"}).status_code == 302
    assert (FakeProvider.started[-1].amount_cents, FakeProvider.started[-1].instalment_id) == (30_000, None)


@FAKE
def test_asking_for_an_instalment_without_a_plan_is_refused(personas: Personas) -> None:
    FakeProvider.started.clear()
    statement = issued(personas)
    client, path = Client(), pay_link_path(statement)
    _verified(client, path)
    response = client.post(path + "checkout", {"part": "instalment"})
    assert response.status_code == 409 and "no payment plan instalment" in response.content.decode()
    assert FakeProvider.started == []
