"""Waitlist texts word for word in English and Spanish (as texted before they moved to the gettext catalogue):
the offer, the booking that releases a later visit, the slot taken by someone else, the expired offer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine

from careline.scheduling.models import WaitlistEntry
from careline.scheduling.services.waitlist import waitlist_offer_freed_slot
from careline.scheduling.tests.replies_support import (
    MONDAY,
    NOW,
    answers,
    booked,
    chicago,
    patient_with_phone,
    setup,
    text,
)
from careline.testing.personas import Personas

ANN, CAL = "+13125550171", "+13125550173"

EN_GONE = "Sorry, that offer is no longer available. You are still on the waitlist."
ES_GONE = "Lo sentimos, esa oferta ya no está disponible. Sigue en la lista de espera."


def _en_offer(name: str, clock: str) -> str:
    return (
        f"Hi {name}, an earlier visit opened at Northside Clinic: Mon, Jan 6 at {clock}. Reply B to book it. "
        "The first to reply gets it; this offer ends in 120 min."
    )


def _es_offer(name: str, clock: str) -> str:
    return (
        f"Hola {name}, se liberó una cita antes en Northside Clinic: el lun 6 ene a las {clock}. Responda B para "
        "reservarla. La primera persona en responder la obtiene; vence en 120 min."
    )


EXPECTED: dict[str, dict[str, list[str]]] = {
    "en": {
        "ann": [
            _en_offer("Ann", "10:00 AM"),
            "Booked: your visit is on Mon, Jan 6 at 10:00 AM at Northside Clinic, 1 Main St, Springfield, IL "
            "62701. Your visit on Thu, Jan 9 at 9:00 AM is cancelled.",
        ],
        "cal": [_en_offer("Cal", "10:00 AM"), EN_GONE, _en_offer("Cal", "11:00 AM"), EN_GONE],
    },
    "es": {
        "ann": [
            _es_offer("Ann", "10:00"),
            "Listo: su cita es el lun 6 ene a las 10:00 en Northside Clinic, 1 Main St, Springfield, IL 62701. "
            "Su cita del jue 9 ene a las 9:00 quedó cancelada.",
        ],
        "cal": [_es_offer("Cal", "10:00"), ES_GONE, _es_offer("Cal", "11:00"), ES_GONE],
    },
}


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.mark.parametrize("language", ["en", "es"])
def test_waitlist_texts(personas: Personas, clock: Any, language: str) -> None:
    schedule = setup(personas)
    ann = patient_with_phone(personas, "Ann", ANN)
    cal = patient_with_phone(personas, "Cal", CAL)
    for patient in (ann, cal):
        patient.language = language
        patient.save(update_fields=["language"])
    later = booked(schedule, chicago(MONDAY + timedelta(days=3), 9), patient=ann)
    WaitlistEntry.objects.create(patient=ann, appointment_type=schedule.checkup, current_appointment=later)
    WaitlistEntry.objects.create(patient=cal, appointment_type=schedule.checkup)
    waitlist_offer_freed_slot(
        clinician=personas.clinician_a, location=personas.location_a, appointment_type=schedule.checkup,
        starts_at=chicago(MONDAY, 10),
    )  # fmt: skip
    text("B", ANN)
    text("B", CAL)
    waitlist_offer_freed_slot(
        clinician=personas.clinician_a, location=personas.location_a, appointment_type=schedule.checkup,
        starts_at=chicago(MONDAY, 11),
    )  # fmt: skip
    clock.shift(timedelta(minutes=121))
    text("B", CAL)
    assert {"ann": answers(ANN), "cal": answers(CAL)} == EXPECTED[language]
