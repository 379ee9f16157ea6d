"""`patients_sms_numbers` chooses, in one query, the number `patient_sms_number` chooses for each patient."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from careline.messaging.outbound.policy import patient_sms_number, patients_sms_numbers
from careline.patients.models import Patient, PatientPhone, PhoneKind

pytestmark = pytest.mark.django_db


def _patient(location: Any, mrn: str, phones: list[tuple[str, str, bool]]) -> Patient:
    patient = Patient.objects.create(
        mrn=mrn, legal_first_name="Sam", legal_last_name="Number", date_of_birth=date(1980, 1, 1),
        primary_location=location,
    )  # fmt: skip
    for number, kind, primary in phones:
        PatientPhone.objects.create(patient=patient, number=number, kind=kind, is_primary=primary)
    return patient


def test_the_primary_mobile_then_any_mobile_then_the_primary_number(
    personas: Any, django_assert_num_queries: Any
) -> None:
    a = personas.location_a
    patients = [
        _patient(
            a,
            "MRN-NA",
            [("+13125550101", PhoneKind.LANDLINE, True), ("+13125550102", PhoneKind.MOBILE, False)],
        ),
        _patient(
            a, "MRN-NB", [("+13125550201", PhoneKind.MOBILE, False), ("+13125550202", PhoneKind.MOBILE, True)]
        ),
        _patient(
            a,
            "MRN-NC",
            [("+13125550301", PhoneKind.LANDLINE, False), ("+13125550302", PhoneKind.LANDLINE, True)],
        ),
        _patient(
            a,
            "MRN-ND",
            [("+13125550401", PhoneKind.MOBILE, False), ("+13125550402", PhoneKind.MOBILE, False)],
        ),
        _patient(a, "MRN-NE", []),
    ]
    with django_assert_num_queries(1):
        numbers = patients_sms_numbers([p.pk for p in patients])
    expected = {p.pk: patient_sms_number(p) for p in patients}
    assert numbers == {pk: number for pk, number in expected.items() if number}
    assert numbers[patients[0].pk] == "+13125550102" and patients[4].pk not in numbers
