"""Money a provider already took is never refused: recorded, the patient left in credit, flagged for staff."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from careline.billing.models import Payment
from careline.billing.queries import patient_balance
from careline.billing.services.payments import payment_record
from careline.billing.tests.support import owing
from careline.core.actor import Actor
from careline.core.models import AuditEntry
from careline.testing.personas import Personas

pytestmark = pytest.mark.django_db


def test_a_desk_payment_above_the_balance_is_still_refused(personas: Personas) -> None:
    owing(personas, 2_500)
    with pytest.raises(ValidationError):
        payment_record(
            patient=personas.pat, amount_cents=3_000, method="cash", actor=Actor.staff(personas.front_a)
        )
    assert Payment.objects.count() == 0


def test_money_already_taken_is_recorded_beyond_the_balance_and_flagged(
    personas: Personas, client_for: Any
) -> None:
    owing(personas, 2_500)
    payment = payment_record(
        patient=personas.pat, amount_cents=4_000, method="online", provider="test", provider_reference="p1",
        actor=Actor.system("payment provider test"), already_taken=True,
    )  # fmt: skip
    assert payment.overpayment_cents == 1_500
    balance = patient_balance(personas.pat)
    assert (balance.due, balance.credit_balance) == (0, 1_500)
    assert AuditEntry.objects.filter(detail__contains="more than was due").exists()
    page = client_for(personas.billing_a).get(reverse("billing:ledger", args=[personas.pat.pk]))
    assert "Overpayment: $15.00" in page.content.decode()


def test_money_taken_when_nothing_is_due_is_all_credit(personas: Personas) -> None:
    payment = payment_record(
        patient=personas.pat, amount_cents=700, method="online", provider="test", provider_reference="p2",
        actor=Actor.system("payment provider test"), already_taken=True,
    )  # fmt: skip
    assert payment.overpayment_cents == 700
    assert patient_balance(personas.pat).credit_balance == 700


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(due=st.integers(0, 50_000), paid=st.integers(1, 100_000))
def test_an_already_taken_payment_splits_into_what_was_due_and_credit(
    personas: Personas, due: int, paid: int
) -> None:
    from django.db import transaction

    with transaction.atomic():
        if due:
            owing(personas, due)
        before = patient_balance(personas.pat)
        payment = payment_record(
            patient=personas.pat, amount_cents=paid, method="online", provider="test",
            provider_reference=f"h-{due}-{paid}", actor=Actor.system("t"), already_taken=True,
        )  # fmt: skip
        after = patient_balance(personas.pat)
        assert payment.overpayment_cents == max(paid - before.due, 0)
        assert after.net == before.net - paid
        assert after.credit_balance == payment.overpayment_cents
        transaction.set_rollback(True)


def _overpaid(personas: Personas, reference: str = "p9") -> Payment:
    owing(personas, 2_500)
    return payment_record(
        patient=personas.pat, amount_cents=4_000, method="online", provider="test", provider_reference=reference,
        actor=Actor.system("payment provider test"), already_taken=True,
    )  # fmt: skip


def test_an_overpayment_is_on_the_worklist_until_kept_as_credit(personas: Personas, client_for: Any) -> None:
    payment = _overpaid(personas)
    client = client_for(personas.billing_a)
    page = client.get(reverse("billing:worklist")).content.decode()
    assert "Overpayments to review" in page and "$15.00" in page and "Keep as credit" in page
    response = client.post(reverse("billing:overpayment_review", args=[payment.pk]), {"outcome": "credit"})
    assert response.status_code == 302
    payment.refresh_from_db()
    assert payment.overpayment_outcome == "credit" and payment.overpayment_reviewed_by == personas.billing_a
    assert patient_balance(personas.pat).credit_balance == 1_500 and not payment.refunds.exists()
    assert AuditEntry.objects.filter(
        detail__contains="reviewed: Kept as credit", patient_id=personas.pat.pk
    ).exists()
    assert "No overpayment to review." in client.get(reverse("billing:worklist")).content.decode()
    again = client.post(
        reverse("billing:overpayment_review", args=[payment.pk]), {"outcome": "refunded"}, follow=True
    )
    assert "reviewed already" in again.content.decode() and not payment.refunds.exists()


def test_refunding_an_overpayment_gives_the_excess_back_through_the_provider(
    personas: Personas, client_for: Any
) -> None:
    payment = _overpaid(personas)
    client_for(personas.billing_a).post(
        reverse("billing:overpayment_review", args=[payment.pk]), {"outcome": "refunded"}
    )
    payment.refresh_from_db()
    refund = payment.refunds.get()
    assert refund.amount_cents == 1_500 and refund.provider_reference.startswith("test_re_")
    assert payment.overpayment_outcome == "refunded" and patient_balance(personas.pat).net == 0


def test_bad_review_input_changes_nothing(personas: Personas, client_for: Any) -> None:
    payment = _overpaid(personas)
    client = client_for(personas.billing_a)
    response = client.post(
        reverse("billing:overpayment_review", args=[payment.pk]), {"outcome": "shred"}, follow=True
    )
    assert "refund the excess or keep it as credit" in response.content.decode()
    plain = payment_record(patient=personas.quinn, amount_cents=1, method="online", provider="test",
                           provider_reference="p10", actor=Actor.system("t"), already_taken=True)  # fmt: skip
    Payment.objects.filter(pk=plain.pk).update(overpayment_cents=0)
    admin = client_for(personas.admin)
    assert (
        "not more than was due"
        in admin.post(
            reverse("billing:overpayment_review", args=[plain.pk]), {"outcome": "credit"}, follow=True
        ).content.decode()
    )
    payment.refresh_from_db()
    assert payment.overpayment_reviewed_at is None


@pytest.mark.parametrize("who", ["front_a", "clinician_a", "front_b", None])
def test_only_billing_staff_review_overpayments(personas: Personas, client_for: Any, who: str | None) -> None:
    payment = _overpaid(personas)
    user = getattr(personas, who) if who else None
    response = client_for(user).post(
        reverse("billing:overpayment_review", args=[payment.pk]), {"outcome": "credit"}
    )
    assert response.status_code in (302, 403) and (
        who is not None or "login" in response["Location"] or "accounts" in response["Location"]
    )
    if who:
        assert response.status_code == 403
        assert (
            "Overpayments to review" not in client_for(user).get(reverse("billing:worklist")).content.decode()
        )
    payment.refresh_from_db()
    assert payment.overpayment_reviewed_at is None
