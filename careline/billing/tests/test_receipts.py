"""Receipts: after every recorded payment, one receipt to the payer by their billing channel (consent
respected, in their language), and a printable receipt page for the desk."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from careline.billing.models import Payment
from careline.billing.services.payments import payment_record
from careline.billing.services.receipts import receipt_send
from careline.billing.tests.support import owing
from careline.core.actor import Actor
from careline.core.models import AuditEntry
from careline.messaging.models import Message, MessageState, SuppressionReason
from careline.patients.models import ConsentKind, ConsentMethod, Purpose
from careline.patients.services.registry import consent_record, contact_preference_set
from careline.testing.personas import Personas

NOON_CHICAGO = datetime(2030, 3, 6, 18, 0, tzinfo=UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.clock(NOON_CHICAGO), pytest.mark.usefixtures("clock")]


def _paid(personas: Personas, patient: Any = None, cents: int = 2_500) -> Payment:
    patient = patient or personas.pat
    owing(personas, cents, patient)
    return payment_record(
        patient=patient, amount_cents=cents, method="cash", actor=Actor.staff(personas.front_a)
    )


def _receipts() -> list[Message]:
    return list(Message.objects.filter(idempotency_key__startswith="receipt:"))


def _billing_consent(personas: Personas, clock: Any) -> None:
    clock.shift(timedelta(seconds=1))
    consent_record(
        phone_number="+13125550111", kind=ConsentKind.BILLING_GIVEN, method=ConsentMethod.STAFF,
        patient=personas.pat, actor=Actor.system("test"),
    )  # fmt: skip
    clock.shift(timedelta(seconds=1))


def test_every_recorded_payment_gets_one_receipt_after_commit(
    personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    owing(personas, 2_500)
    with django_capture_on_commit_callbacks(execute=True):
        payment = payment_record(
            patient=personas.pat, amount_cents=2_500, method="cash", actor=Actor.staff(personas.front_a)
        )
    receipt_send(payment.pk)  # the event again: still one receipt
    [receipt] = _receipts()
    assert receipt.purpose == Purpose.BILLING and receipt.patient_id == personas.pat.pk


def test_a_text_receipt_with_billing_consent_says_the_amount_and_nothing_else(
    personas: Personas, clock: Any, settings: Any
) -> None:
    settings.CARELINE_CLINIC_NAME = "Northside Clinic"
    _billing_consent(personas, clock)
    receipt_send(_paid(personas).pk)
    [receipt] = _receipts()
    assert receipt.body == "Northside Clinic: we received your payment of $25.00. Thank you."
    assert receipt.to_address == "+13125550111" and receipt.state == MessageState.QUEUED


def test_without_billing_consent_the_receipt_goes_by_email_with_its_number(personas: Personas) -> None:
    payment = _paid(personas)
    receipt_send(payment.pk)
    [receipt] = _receipts()
    assert receipt.to_address == "pat@example.test"
    assert receipt.subject == f"Your payment receipt R-{payment.pk:06d}"
    assert f"Receipt number: R-{payment.pk:06d}" in receipt.body and "$25.00" in receipt.body


def test_without_billing_consent_or_email_the_text_is_suppressed_with_its_reason_in_spanish(
    personas: Personas,
) -> None:
    receipt_send(_paid(personas, personas.quinn).pk)
    [receipt] = _receipts()
    assert receipt.state == MessageState.SUPPRESSED
    # Quinn has no text consent at all (general or billing): the pipeline names the first missing one.
    assert receipt.suppression_reason in (SuppressionReason.NO_CONSENT, SuppressionReason.NO_PURPOSE_CONSENT)
    assert "recibimos su pago de $25.00" in receipt.body


def test_the_email_preference_sends_email_and_mail_sends_nothing(personas: Personas, clock: Any) -> None:
    _billing_consent(personas, clock)
    contact_preference_set(
        patient=personas.pat, purpose=Purpose.BILLING, channel="email", actor=Actor.staff(personas.front_a)
    )
    receipt_send(_paid(personas, cents=1_000).pk)
    assert [m.to_address for m in _receipts()] == ["pat@example.test"]
    contact_preference_set(
        patient=personas.pat, purpose=Purpose.BILLING, channel="mail", actor=Actor.staff(personas.front_a)
    )
    receipt_send(_paid(personas, cents=1_000).pk)
    assert len(_receipts()) == 1  # by mail: the desk prints the receipt page


ROLES = ("admin", "front_a", "clinician_a", "billing_a", "front_b", None)


def test_the_receipt_page_is_for_those_who_take_payments_at_the_patients_location(
    personas: Personas, client_for: Callable[[Any], Client]
) -> None:
    url = reverse("billing:receipt", args=[_paid(personas).pk])
    allowed = {}
    for role in ROLES:
        response = client_for(None if role is None else getattr(personas, role)).get(url)
        allowed[role] = response.status_code == 200
    assert allowed == {
        "admin": True, "front_a": True, "clinician_a": False, "billing_a": True, "front_b": False, None: False,
    }  # fmt: skip


def test_the_receipt_page_shows_the_payment_and_is_audited(
    personas: Personas, client_for: Callable[[Any], Client]
) -> None:
    payment = _paid(personas)
    page = client_for(personas.front_a).get(reverse("billing:receipt", args=[payment.pk])).content.decode()
    assert f"R-{payment.pk:06d}" in page and "$25.00" in page and "Cash" in page and "data-print" in page
    assert AuditEntry.objects.filter(patient_id=personas.pat.pk, detail="payment receipt").exists()


def test_recording_a_desk_payment_can_go_straight_to_its_receipt(
    personas: Personas, client_for: Callable[[Any], Client]
) -> None:
    owing(personas, 2_500)
    response = client_for(personas.front_a).post(
        reverse("billing:payment_record", args=[personas.pat.pk]),
        {"payment-amount": "25.00", "payment-method": "cash", "then": "receipt"},
    )
    payment = Payment.objects.get()
    assert response["Location"] == reverse("billing:receipt", args=[payment.pk])


def test_the_receipt_page_of_no_payment_is_not_found(personas: Personas, client_for: Any) -> None:
    assert client_for(personas.admin).get("/billing/payments/999999/receipt").status_code == 404
