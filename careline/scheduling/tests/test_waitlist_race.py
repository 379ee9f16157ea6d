"""Two waitlisted patients accepting the same offer at the same moment (real threads on PostgreSQL): one booking."""

from __future__ import annotations

import threading

import pytest
import time_machine
from django.db import connection

from careline.scheduling.models import Appointment, WaitlistEntry, WaitlistOffer
from careline.scheduling.services.waitlist import waitlist_offer_freed_slot
from careline.scheduling.tests.replies_support import (
    MONDAY,
    NOW,
    answers,
    chicago,
    patient_with_phone,
    setup,
    text,
)
from careline.testing.personas import Personas

ANN, CAL = "+13125550171", "+13125550173"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_patients_accepting_at_once_get_one_booking(personas: Personas) -> None:
    with time_machine.travel(NOW, tick=False):
        schedule = setup(personas)
        for name, number in (("Ann", ANN), ("Cal", CAL)):
            WaitlistEntry.objects.create(
                patient=patient_with_phone(personas, name, number), appointment_type=schedule.checkup
            )
        slot = chicago(MONDAY, 10)
        offered = waitlist_offer_freed_slot(
            clinician=personas.clinician_a, location=personas.location_a, appointment_type=schedule.checkup,
            starts_at=slot,
        )  # fmt: skip
        assert offered == 2
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def accept(number: str) -> None:
            try:
                barrier.wait(timeout=10)
                text("B", number)
            except BaseException as error:  # noqa: BLE001 - reported by the main thread
                errors.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=accept, args=(n,)) for n in (ANN, CAL)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert errors == []
        assert Appointment.objects.filter(starts_at=slot, clinician=personas.clinician_a).count() == 1
        states = sorted(WaitlistOffer.objects.values_list("state", flat=True))
        assert states == [WaitlistOffer.State.ACCEPTED, WaitlistOffer.State.TAKEN]
        last = {answers(ANN)[-1][:6], answers(CAL)[-1][:6]}
        assert last == {"Booked", "Sorry,"}
        assert WaitlistEntry.objects.filter(state=WaitlistEntry.State.WAITING).count() == 1
