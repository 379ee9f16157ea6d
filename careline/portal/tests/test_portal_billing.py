"""The portal's Billing: the balance and statements of the open record, a statement without the date of birth,
its PDF, the Pay button, the Home balance card, and caregivers only with the billing section."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from careline.billing.models import StatementEventKind
from careline.billing.services.statements import statement_void
from careline.billing.tests.statement_support import issued, pdf_text
from careline.billing.tests.support import billing_actor
from careline.billing.tests.test_pay_page import FakeProvider
from careline.testing.personas import Personas
from careline.testing.portal import portal_account_for, portal_caregiver_account, portal_sign_in

NOW = datetime(2030, 3, 12, 19, 0, tzinfo=UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.clock(NOW), pytest.mark.usefixtures("clock")]
FAKE = override_settings(
    CARELINE_PAYMENT_PROVIDERS=["careline.billing.tests.test_pay_page.FakeProvider"],
    CARELINE_PAYMENT_PROVIDER="fake",
)


def test_the_billing_tab_lists_statements_and_the_balance(personas: Personas) -> None:
    statement = issued(personas)
    client = portal_sign_in(Client(), portal_account_for(personas.pat))
    page = client.get(reverse("portal:billing")).content.decode()
    assert statement.number in page and "$25.00" in page
    detail = client.get(reverse("portal:statement", args=[statement.pk])).content.decode()
    assert "Office visit" in detail and "Pay $25.00" in detail and "Date of birth" not in detail
    assert statement.events.filter(kind=StatementEventKind.VIEWED, detail="portal").exists()
    pdf = client.get(reverse("portal:statement_file", args=[statement.pk]))
    assert "Amount due $25.00" in " ".join(pdf_text(pdf.content).split())


def test_home_shows_the_balance_card_only_with_a_balance_and_the_section(personas: Personas) -> None:
    own = portal_sign_in(Client(), portal_account_for(personas.pat))
    assert "You owe" not in own.get(reverse("portal:home")).content.decode()
    statement = issued(personas)
    home = own.get(reverse("portal:home")).content.decode()
    assert "You owe $25.00" in home and reverse("portal:statement", args=[statement.pk]) in home
    without = portal_caregiver_account(personas.pat_caregiver, sections=("appointments",))
    assert "You owe" not in portal_sign_in(Client(), without).get(reverse("portal:home")).content.decode()


def test_a_caregiver_sees_billing_only_with_the_section(personas: Personas) -> None:
    statement = issued(personas)
    without = portal_sign_in(
        Client(), portal_caregiver_account(personas.pat_caregiver, sections=("appointments",))
    )
    assert without.get(reverse("portal:billing")).status_code == 404
    assert without.get(reverse("portal:statement", args=[statement.pk])).status_code == 404
    with_billing = portal_sign_in(
        Client(),
        portal_caregiver_account(personas.pat_caregiver, sections=("billing",), email="cg2@example.test"),
    )
    assert statement.number in with_billing.get(reverse("portal:billing")).content.decode()


def test_voided_and_other_patients_statements_are_not_found(personas: Personas) -> None:
    quinns = issued(personas, 1_000, personas.quinn)
    mine = issued(personas)
    client = portal_sign_in(Client(), portal_account_for(personas.pat))
    assert client.get(reverse("portal:statement", args=[quinns.pk])).status_code == 404
    assert client.post(reverse("portal:statement_pay", args=[quinns.pk])).status_code == 404
    statement_void(statement=mine, reason="Error", actor=billing_actor(personas))
    assert client.get(reverse("portal:statement", args=[mine.pk])).status_code == 404
    assert mine.number not in client.get(reverse("portal:billing")).content.decode()


@FAKE
def test_pay_starts_the_checkout_without_the_date_of_birth(personas: Personas) -> None:
    FakeProvider.started.clear()
    statement = issued(personas)
    client = portal_sign_in(Client(), portal_account_for(personas.pat))
    response = client.post(reverse("portal:statement_pay", args=[statement.pk]))
    assert response.status_code == 302 and response["Location"] == "https://pay.example.test/c/1"
    assert FakeProvider.started[0].amount_cents == 2_500
    assert FakeProvider.started[0].success_url.endswith(
        reverse("portal:statement", args=[statement.pk]) + "?paid=1"
    )


def test_pay_without_a_provider_says_so(personas: Personas, settings: Any) -> None:
    settings.CARELINE_PAYMENT_PROVIDERS = []  # none installed
    statement = issued(personas)
    client = portal_sign_in(Client(), portal_account_for(personas.pat))
    response = client.post(reverse("portal:statement_pay", args=[statement.pk]))
    assert response.status_code == 409 and "call the clinic" in response.content.decode()


@FAKE
def test_the_portal_offers_this_months_instalment_with_a_plan(personas: Personas) -> None:
    from datetime import date

    from careline.billing.services.plans import plan_create

    FakeProvider.started.clear()
    statement = issued(personas, 30_001)
    plan_create(
        statement=statement, instalments=3, first_due=date(2030, 4, 15), actor=billing_actor(personas)
    )
    client = portal_sign_in(Client(), portal_account_for(personas.pat))
    page = client.get(reverse("portal:statement", args=[statement.pk])).content.decode()
    assert "Pay this month's instalment ($100.01)" in page
    response = client.post(reverse("portal:statement_pay", args=[statement.pk]), {"part": "instalment"})
    assert response.status_code == 302 and FakeProvider.started[-1].amount_cents == 10_001
