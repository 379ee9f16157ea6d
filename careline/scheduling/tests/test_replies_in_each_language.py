"""The answers to C, X, R and a chosen number, word for word in English and Spanish (as texted before the
answers moved to the gettext catalogue)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

from careline.scheduling.tests.replies_support import (
    MONDAY,
    NOW,
    answers,
    booked,
    chicago,
    reminded,
    setup,
    text,
)
from careline.testing.personas import Personas

EXPECTED: dict[str, list[str]] = {
    "en": [
        "Thank you, Pat. Your visit on Mon, Jan 6 at 9:00 AM at Northside Clinic is confirmed.",
        "Reply 1, 2 or 3 to move your visit at Northside Clinic: 1) Fri, Jan 3 at 11:00 AM 2) Mon, Jan 6 at "
        "9:30 AM 3) Tue, Jan 7 at 9:00 AM",
        "Done: your visit is now on Mon, Jan 6 at 9:30 AM at Northside Clinic, 1 Main St, Springfield, IL 62701.",
        "Reply X again to cancel your visit on Mon, Jan 6 at 9:30 AM at Northside Clinic.",
        "Your visit on Mon, Jan 6 at 9:30 AM at Northside Clinic is cancelled. To book again call (312) 555-0100.",
    ],
    "es": [
        "Gracias, Pat. Su cita del lun 6 ene a las 9:00 en Northside Clinic está confirmada.",
        "Responda 1, 2 o 3 para cambiar su cita en Northside Clinic: 1) vie 3 ene a las 11:00 2) lun 6 ene a "
        "las 9:30 3) mar 7 ene a las 9:00",
        "Listo: su cita quedó para el lun 6 ene a las 9:30 en Northside Clinic, 1 Main St, Springfield, IL 62701.",
        "Responda X otra vez para cancelar su cita del lun 6 ene a las 9:30 en Northside Clinic.",
        "Su cita del lun 6 ene a las 9:30 en Northside Clinic está cancelada. Para reservar otra llame al "
        "(312) 555-0100.",
    ],
}


@pytest.fixture
def clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def _visit(personas: Personas, language: str) -> Any:
    personas.pat.language = language
    personas.pat.save(update_fields=["language"])
    appointment = booked(setup(personas), chicago(MONDAY, 9))
    reminded(appointment)
    return appointment


@pytest.mark.parametrize("language", ["en", "es"])
def test_confirm_cancel_and_move_answers(personas: Personas, clock: None, language: str) -> None:
    _visit(personas, language)
    text("C")
    text("R")
    text("2")
    text("X")
    text("X")
    assert answers() == EXPECTED[language]
