"""A statement issued the way the statements service does (a row and StatementIssued), for collections tests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from careline.billing.events import StatementIssued
from careline.billing.models import Statement, StatementState
from careline.billing.queries import patient_balance
from careline.core.actor import Actor
from careline.core.events import publish
from careline.patients.models import ConsentKind, ConsentMethod
from careline.patients.services.registry import consent_record


def statement_issued(patient: Any, *, channel: str = "sms", guarantor: Any = None) -> Statement:
    """PATIENT's balance due now, issued as a statement by CHANNEL today (due in 30 days)."""
    with transaction.atomic():
        Statement.objects.filter(patient=patient, state=StatementState.ISSUED).update(
            state=StatementState.SUPERSEDED
        )
        today = timezone.localdate()
        statement = Statement.objects.create(
            patient=patient,
            guarantor=guarantor,
            statement_date=today,
            due_date=today + timedelta(days=30),
            amount_due_cents=patient_balance(patient).due,
            channel=channel,
            issued_at=timezone.now(),
        )
        publish(
            StatementIssued(
                statement_id=statement.pk,
                patient_id=patient.pk,
                payer_id=statement.payer_id,
                amount_due_cents=statement.amount_due_cents,
                currency=statement.currency,
                due_date=statement.due_date.isoformat(),
                channel=channel,
            )
        )
    return statement


def billing_consent(number: str, *, given: bool = True) -> None:
    consent_record(
        phone_number=number,
        kind=ConsentKind.BILLING_GIVEN if given else ConsentKind.BILLING_REVOKED,
        method=ConsentMethod.STAFF,
        patient=None,
        actor=Actor.system("test"),
    )
