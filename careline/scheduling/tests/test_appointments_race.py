"""Two bookings racing for the same clinician and time on PostgreSQL: exactly one wins."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection

from careline.scheduling.models import Appointment
from careline.scheduling.tests.appointment_support import MONDAY, at_a, book, make_schedule


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_threads_booking_the_same_time_one_wins(personas: Any) -> None:
    schedule = make_schedule(personas)
    p = personas
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(patient: Any) -> None:
        try:
            barrier.wait()
            with time_machine.travel("2030-12-01T12:00:00Z", tick=False):
                book(schedule, at_a(p, MONDAY, 9), patient=patient, notify=False)
            outcomes.append("booked")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(patient,)) for patient in (p.pat, p.quinn)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["booked", "refused"]
    assert Appointment.objects.filter(status="booked").count() == 1
