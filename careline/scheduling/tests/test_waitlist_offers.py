"""Waitlist offers of freed slots: in order, texted only to patients who may be texted; first B wins; expiry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from careline.scheduling.models import (
    Appointment,
    AppointmentStatus,
    WaitlistEntry,
    WaitlistOffer,
)
from careline.scheduling.prompts import (
    PromptKind,
    scheduling_prompts,
)
from careline.scheduling.services.waitlist import waitlist_offer_freed_slot, waitlist_offers_expire
from careline.scheduling.tests.appointment_support import Schedule
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

ANN, BEN, CAL, DEE = "+13125550171", "+13125550172", "+13125550173", "+13125550174"


pytestmark = [pytest.mark.clock(NOW)]


@pytest.fixture
def schedule(personas: Personas, clock: Any) -> Schedule:
    return setup(personas)


def _wait(personas: Personas, schedule: Schedule, name: str, number: str, **fields: Any) -> WaitlistEntry:
    consent = fields.pop("consent", True)
    patient = patient_with_phone(personas, name, number, consent=consent)
    return WaitlistEntry.objects.create(patient=patient, appointment_type=schedule.checkup, **fields)


def _free(schedule: Schedule) -> int:
    p = schedule.personas
    return waitlist_offer_freed_slot(
        clinician=p.clinician_a, location=p.location_a, appointment_type=schedule.checkup,
        starts_at=chicago(MONDAY, 10),
    )  # fmt: skip


def test_a_freed_slot_is_offered_in_order_to_patients_who_can_be_texted(
    personas: Personas, schedule: Schedule, settings: Any
) -> None:
    settings.CARELINE_WAITLIST_OFFER_BATCH = 2
    _wait(personas, schedule, "Ann", ANN)
    _wait(personas, schedule, "Ben", BEN, consent=False)  # never texted
    _wait(personas, schedule, "Cal", CAL)
    _wait(personas, schedule, "Dee", DEE)  # beyond the batch
    _wait(personas, schedule, "Eve", "+13125550175", location=personas.location_b)  # another location
    assert _free(schedule) == 2
    assert sorted(o.entry.patient.first_name for o in WaitlistOffer.objects.all()) == ["Ann", "Cal"]
    assert answers(ANN) == [
        "Hi Ann, an earlier visit opened at Northside Clinic: Mon, Jan 6 at 10:00 AM. Reply B to book it. "
        "The first to reply gets it; this offer ends in 120 min."
    ]
    assert answers(BEN) == [] and answers(DEE) == []
    assert scheduling_prompts().filter(kind=PromptKind.WAITLIST, phone_number=ANN).count() == 1
    assert _free(schedule) == 1  # offered again later: only those not offered this slot yet
    assert answers(DEE)


def test_the_first_to_reply_gets_it_and_the_next_is_told_it_is_taken(
    personas: Personas, schedule: Schedule
) -> None:
    ann = _wait(personas, schedule, "Ann", ANN)
    cal = _wait(personas, schedule, "Cal", CAL)
    _free(schedule)
    text("b", ANN)
    text("B", CAL)
    booked_visit = Appointment.objects.get(patient=ann.patient)
    assert booked_visit.starts_at == chicago(MONDAY, 10)
    assert answers(ANN)[-1].startswith("Booked: your visit is on Mon, Jan 6 at 10:00 AM at Northside Clinic")
    assert answers(CAL)[-1].startswith("Sorry, that")
    ann.refresh_from_db()
    cal.refresh_from_db()
    assert (ann.state, cal.state) == (WaitlistEntry.State.BOOKED, WaitlistEntry.State.WAITING)
    assert not Appointment.objects.filter(patient=cal.patient).exists()


def test_a_reply_to_an_expired_offer_books_nothing(
    personas: Personas, schedule: Schedule, clock: Any
) -> None:
    ann = _wait(personas, schedule, "Ann", ANN)
    _free(schedule)
    clock.shift(timedelta(minutes=121))
    text("B", ANN)
    assert not Appointment.objects.filter(patient=ann.patient).exists()
    assert answers(ANN)[-1] == "Sorry, that offer is no longer available. You are still on the waitlist."
    assert WaitlistOffer.objects.get().state == WaitlistOffer.State.EXPIRED
    ann.refresh_from_db()
    assert ann.state == WaitlistEntry.State.WAITING


def test_the_expiry_sweep_offers_the_slot_to_the_next_in_line(
    personas: Personas, schedule: Schedule, clock: Any, settings: Any
) -> None:
    settings.CARELINE_WAITLIST_OFFER_BATCH = 1
    _wait(personas, schedule, "Ann", ANN)
    _wait(personas, schedule, "Cal", CAL)
    _free(schedule)
    assert answers(CAL) == []
    clock.shift(timedelta(minutes=121))
    assert waitlist_offers_expire() == 1
    assert len(answers(CAL)) == 1


def test_taking_an_earlier_slot_releases_the_later_visit(personas: Personas, schedule: Schedule) -> None:
    patient = patient_with_phone(personas, "Ann", ANN)
    later = booked(schedule, chicago(MONDAY + timedelta(days=3), 9), patient=patient)
    WaitlistEntry.objects.create(
        patient=patient, appointment_type=schedule.checkup, current_appointment=later
    )
    _free(schedule)
    text("B", ANN)
    later.refresh_from_db()
    assert later.status == AppointmentStatus.CANCELLED_PATIENT
    assert "Your visit on Thu, Jan 9 at 9:00 AM is cancelled." in answers(ANN)[-1]


def test_no_offer_for_a_slot_later_than_the_visit_the_patient_has(
    personas: Personas, schedule: Schedule
) -> None:
    patient = patient_with_phone(personas, "Ann", ANN)
    earlier = booked(schedule, chicago(MONDAY, 9), patient=patient)
    WaitlistEntry.objects.create(
        patient=patient, appointment_type=schedule.checkup, current_appointment=earlier
    )
    assert _free(schedule) == 0


def test_the_waitlist_word_is_configurable(personas: Personas, schedule: Schedule, settings: Any) -> None:
    settings.CARELINE_REPLY_WAITLIST = "BOOK"
    ann = _wait(personas, schedule, "Ann", ANN)
    _free(schedule)
    assert "Reply BOOK to book it." in answers(ANN)[0]
    text("B", ANN)
    assert not Appointment.objects.filter(patient=ann.patient).exists()
    text("book", ANN)
    assert Appointment.objects.filter(patient=ann.patient).exists()


def test_the_expiry_sweep_runs_on_beat() -> None:
    from careline.celery import _beat_schedule

    assert "scheduling.waitlist_offers_expire" in {entry["task"] for entry in _beat_schedule().values()}
