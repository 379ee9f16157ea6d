"""The patients services publish what changed (ids, field names, codes) for listeners in other apps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from careline.core.actor import Actor
from careline.core.events import Event, Phase, subscribe, unsubscribe
from careline.patients.events import PATIENT_EVENTS, ConsentChanged, PatientCreated, PatientUpdated
from careline.patients.models import ConsentEvent, Patient
from careline.patients.services.imports import import_apply, import_check
from careline.patients.services.registry import (
    consent_record,
    contact_preference_set,
    patient_create,
    patient_phone_add,
    patient_phone_remove,
    patient_phone_set_primary,
    patient_update,
)
from careline.patients.tests.import_support import GOOD_ROWS, csv_bytes

pytestmark = pytest.mark.django_db


class Refused(Exception):
    pass


@pytest.fixture
def published() -> Iterator[list[Event]]:
    """Every patient event published during the test, as an after-commit listener sees them."""
    seen: list[Event] = []
    for event_type in PATIENT_EVENTS:
        subscribe(event_type, seen.append, phase=Phase.AFTER_COMMIT)
    yield seen
    for event_type in PATIENT_EVENTS:
        unsubscribe(event_type, seen.append, phase=Phase.AFTER_COMMIT)


def test_registering_and_editing_a_patient_publish_ids_and_field_names(
    personas: Any, published: list[Event], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        patient = patient_create(
            actor=Actor.staff(personas.front_a), legal_first_name="Rae", legal_last_name="Moss",
            date_of_birth=date(1980, 5, 1), primary_location=personas.location_a,
        )  # fmt: skip
        patient_update(
            patient=patient,
            actor=Actor.staff(personas.front_a),
            changes={"preferred_name": "Ray", "city": "Elm"},
        )
        patient_update(
            patient=patient, actor=Actor.staff(personas.front_a), changes={"city": "Elm"}
        )  # nothing changed
        first = patient_phone_add(
            patient=patient, number="(312) 555-0177", actor=Actor.staff(personas.front_a)
        )
        second = patient_phone_add(
            patient=patient, number="(312) 555-0178", actor=Actor.staff(personas.front_a)
        )
        patient_phone_set_primary(phone=second, actor=Actor.staff(personas.front_a))
        patient_phone_remove(phone=first, actor=Actor.staff(personas.front_a))
        contact_preference_set(
            patient=patient, purpose="appointments", channel="email", actor=Actor.staff(personas.front_a)
        )
    assert published == [
        PatientCreated(patient_id=patient.pk, primary_location_id=personas.location_a.pk, source="registry"),
        PatientUpdated(patient_id=patient.pk, fields=("preferred_name", "city")),
        *[PatientUpdated(patient_id=patient.pk, fields=("phones",))] * 4,
        PatientUpdated(patient_id=patient.pk, fields=("contact_preferences",)),
    ]


def test_a_consent_entry_is_published_without_the_number(
    personas: Any, published: list[Event], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        entry = consent_record(
            phone_number="(312) 555-0101", kind="revoked", method="keyword", patient=personas.pat,
            actor=Actor.system("test"),
        )  # fmt: skip
    assert published == [
        ConsentChanged(
            consent_event_id=entry.pk, patient_id=personas.pat.pk, kind="revoked", method="keyword"
        )
    ]


def test_a_refused_update_publishes_nothing(personas: Any, published: list[Event]) -> None:
    with pytest.raises(ValidationError):
        patient_update(
            patient=personas.pat, actor=Actor.staff(personas.front_a), changes={"email": "not an address"}
        )
    assert published == []


def test_an_in_transaction_listener_failing_undoes_the_registration(personas: Any) -> None:
    def refuse(event: PatientCreated) -> None:
        raise Refused

    subscribe(PatientCreated, refuse, phase=Phase.IN_TRANSACTION)
    try:
        with pytest.raises(Refused):
            patient_create(
                actor=Actor.staff(personas.front_a), legal_first_name="Rae", legal_last_name="Moss",
                date_of_birth=date(1980, 5, 1), primary_location=personas.location_a,
            )  # fmt: skip
    finally:
        unsubscribe(PatientCreated, refuse, phase=Phase.IN_TRANSACTION)
    assert not Patient.objects.filter(legal_last_name="Moss").exists()


def test_a_csv_import_publishes_each_patient_and_consent(
    personas: Any, published: list[Event], django_capture_on_commit_callbacks: Any
) -> None:
    checked = import_check(data=csv_bytes(*GOOD_ROWS), user=personas.admin)
    assert checked.errors == []
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        assert import_apply(rows=checked.rows, actor=Actor.system("patient-import")) == 3
    created = {e.patient_id for e in published if isinstance(e, PatientCreated) and e.source == "import"}
    assert created == set(
        Patient.objects.filter(mrn__in=["N-100", "N-101", "N-102"]).values_list("pk", flat=True)
    )
    consents = [e for e in published if isinstance(e, ConsentChanged)]
    assert {(e.kind, e.method) for e in consents} == {("given", "import"), ("revoked", "import")}
    assert {e.consent_event_id for e in consents} == set(
        ConsentEvent.objects.filter(method="import").values_list("pk", flat=True)
    )
