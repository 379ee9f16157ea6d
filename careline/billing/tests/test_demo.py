"""The demo clinic's billing: claims in every state, payments, a refund, a write-off, and a ledger worth opening."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from careline.billing.demo import billing_seed_demo
from careline.billing.models import (
    BalanceAdjustment,
    Charge,
    Claim,
    ClaimStatus,
    Payment,
    Refund,
    SelfPayVisit,
)
from careline.billing.queries import patient_balance
from careline.demo.services import demo_clinic_load
from careline.testing.personas import sign_in

pytestmark = pytest.mark.django_db


def test_the_demo_bills_completed_visits_with_claims_in_every_state(settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path
    summary = demo_clinic_load(patients=40, notes=5)
    assert summary.counts["billing_charges"] == Charge.objects.count() > 0
    assert set(Claim.objects.values_list("status", flat=True)) == set(ClaimStatus.values)
    assert SelfPayVisit.objects.exists()
    assert Payment.objects.count() >= 3 and Refund.objects.count() == 1
    assert set(BalanceAdjustment.objects.values_list("kind", flat=True)) == {"credit", "write_off"}
    # One balance paid online through the built-in test provider, end to end (checkout, signed event).
    online = Payment.objects.get(method="online")
    assert online.provider == "test" and online.checkouts.get().state == "paid"
    patients = {charge.patient for charge in Charge.objects.select_related("patient")}
    balances = [patient_balance(patient) for patient in patients]
    assert any(b.due for b in balances) and any(b.paid and not b.due for b in balances)

    from careline.accounts.models import User

    billing = User.objects.get(role_rows__role="billing")
    client = sign_in(Client(), billing)
    patient = Refund.objects.get().patient
    page = client.get(reverse("billing:ledger", args=[patient.pk]))
    assert page.status_code == 200 and "Refunded" in page.content.decode()
    from careline.billing.models import GuarantorLink, StatementLine

    link = GuarantorLink.objects.get()  # a parent pays for a child: one combined statement
    combined = StatementLine.objects.filter(patient=link.patient).values_list(
        "statement__patient_id", flat=True
    )
    assert set(combined) == {link.guarantor_id}
    assert billing_seed_demo(admin=billing, billing=billing, seed=1) == {}  # once only


def test_the_demo_has_statements_and_collections_under_way(
    settings: Any, tmp_path: Any, default_followup_steps: None
) -> None:
    from careline.billing.models import BillingTask, Dispute, FollowUp, Statement

    settings.VAR_DIR = tmp_path
    summary = demo_clinic_load(patients=40, notes=5)
    assert summary.counts["billing_statements"] == Statement.objects.count() > 0
    assert (
        FollowUp.objects.filter(state="done").exists() and FollowUp.objects.filter(state="planned").exists()
    )
    assert Dispute.objects.filter(resolved_at__isnull=True).count() == 1
    assert BillingTask.objects.exists()
    from careline.billing.models import PaymentPlan

    assert summary.counts["billing_plans"] == PaymentPlan.objects.filter(state="active").count() == 1
