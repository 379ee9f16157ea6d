"""Helpers of the statement tests: billing consent, preferences, a statement of Pat's, PDF text."""

from __future__ import annotations

import io
from typing import Any

from pypdf import PdfReader

from careline.billing.models import Statement
from careline.billing.services.statements import statement_issue
from careline.billing.tests.support import billing_actor, owing
from careline.core.actor import Actor
from careline.patients.models import ConsentKind, ConsentMethod
from careline.patients.services.registry import consent_record, contact_preference_set
from careline.testing.personas import Personas


def billing_consent(personas: Personas, patient: Any = None) -> None:
    """PATIENT (Pat) agreed to billing texts on their mobile."""
    patient = patient or personas.pat
    consent_record(
        phone_number=patient.phones.get(is_primary=True).number, kind=ConsentKind.BILLING_GIVEN,
        method=ConsentMethod.FORM, patient=patient, actor=Actor.staff(personas.front_a),
    )  # fmt: skip


def prefer(personas: Personas, channel: str, patient: Any = None) -> None:
    contact_preference_set(
        patient=patient or personas.pat,
        purpose="billing",
        channel=channel,
        actor=Actor.staff(personas.front_a),
    )


def issued(personas: Personas, cents: int = 2_500, patient: Any = None) -> Statement:
    """A statement of PATIENT (Pat) owing CENTS."""
    patient = patient or personas.pat
    owing(personas, cents, patient)
    return statement_issue(patient=patient, actor=billing_actor(personas))


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
