"""A waitlist offer (a fixed text, no staff-edited fields) names the patient, the place and the time in the
patient's language."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine

from careline.scheduling.models import WaitlistEntry
from careline.scheduling.services.waitlist import waitlist_offer_freed_slot
from careline.scheduling.tests.replies_support import MONDAY, NOW, answers, chicago, patient_with_phone, setup

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            "Hi Ana, an earlier visit opened at Northside Clinic: Mon, Jan 6 at 10:00 AM. Reply B to book it.",
        ),
        (
            "es",
            "Hola Ana, se liberó una cita antes en Northside Clinic: el lun 6 ene a las 10:00. Responda B",
        ),
    ],
)
def test_a_waitlist_offer_is_in_the_patients_language_with_every_part_filled(
    personas: Any, language: str, expected: str
) -> None:
    with time_machine.travel(NOW, tick=False):
        schedule = setup(personas)
        patient = patient_with_phone(personas, "Ana", "+13125550181", language=language)
        WaitlistEntry.objects.create(patient=patient, appointment_type=schedule.checkup)
        waitlist_offer_freed_slot(
            clinician=personas.clinician_a,
            location=personas.location_a,
            appointment_type=schedule.checkup,
            starts_at=chicago(MONDAY, 10),
        )
        [offer] = answers("+13125550181")
    assert offer.startswith(expected)
