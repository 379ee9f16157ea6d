"""Booking warns, as soon as the patient is chosen, when reminders cannot go by text, and offers email instead.

Saving still works without a text route; the visit's page then says "No text reminders: <reason>".
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from careline.core.actor import Actor
from careline.patients.models import (
    ConsentEvent,
    ConsentKind,
    ConsentMethod,
    ContactPreference,
    Patient,
    PatientPhone,
    PhoneKind,
    Purpose,
)
from careline.scheduling.models import Appointment, Reminder, ReminderRule
from careline.scheduling.services.appointments import appointment_book
from careline.scheduling.tests.appointment_support import MONDAY, at_a, book, make_schedule
from careline.scheduling.tests.reminders_support import days_rule

pytestmark = [pytest.mark.django_db, pytest.mark.clock(datetime(2030, 12, 1, 12, 0, tzinfo=UTC))]

NUMBER = "+13125550188"


def _patient(personas: Any, *, email: str = "robin@example.test", phone: str | None = "mobile",
             consent: str | None = ConsentKind.GIVEN, confidential: bool = False) -> Patient:  # fmt: skip
    patient = Patient.objects.create(
        mrn=f"MRN-R-{Patient.objects.count()}", legal_first_name="Robin", legal_last_name="Reach",
        date_of_birth=date(1990, 1, 2), primary_location=personas.location_a, email=email,
        confidential_communications=confidential,
    )  # fmt: skip
    if phone is not None:
        PatientPhone.objects.create(patient=patient, number=NUMBER, kind=phone, is_primary=True)
    if consent is not None:
        ConsentEvent.objects.create(phone_number=NUMBER, kind=consent, method=ConsentMethod.FORM,
                                    patient=patient, occurred_at=timezone.now())  # fmt: skip
    return patient


# name -> (how the patient is made, the reason shown, whether email is offered)
CASES: dict[str, tuple[dict[str, Any], str, bool]] = {
    "textable": ({}, "", False),
    "opted out": ({"consent": ConsentKind.REVOKED}, "the patient opted out of texts (STOP)", True),
    "landline": ({"phone": PhoneKind.LANDLINE}, "the number is a landline", True),
    "no consent": ({"consent": None}, "no consent to text reminders on file", True),
    "no number": ({"phone": None, "consent": None}, "no mobile number on file", True),
    "no number, no email": ({"phone": None, "consent": None, "email": ""}, "no mobile number on file", False),
    "confidential": ({"confidential": True}, "confidential communications (no texts or email)", False),
}


@pytest.mark.parametrize("page", ["scheduling:book", "scheduling:series"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_the_warning_appears_once_the_patient_is_chosen(
    personas: Any, client_for: Any, clock: Any, page: str, case: str
) -> None:
    made, reason, offers_email = CASES[case]
    patient = _patient(personas, **made)
    client = client_for(personas.front_a)
    html = client.get(reverse(page) + f"?patient={patient.pk}").content.decode()
    if reason:
        assert f"This patient cannot be reminded by text:</strong> {reason}." in html
    else:
        assert "cannot be reminded by text" not in html
    assert ('name="reminders_by_email"' in html) is offers_email
    if offers_email:
        assert "Send reminders by email instead, to robin@example.test" in html
    if case == "no number, no email":
        assert "no email address on file either" in html
    # Before the patient is chosen there is nothing to warn about.
    assert "cannot be reminded by text" not in client.get(reverse(page)).content.decode()


def _booking(schedule: Any, patient: Patient, **extra: Any) -> dict[str, Any]:
    p = schedule.personas
    return {"patient": patient.pk, "appointment_type": schedule.checkup.pk, "clinician": p.clinician_a.pk,
            "location": p.location_a.pk, "date": f"{MONDAY:%Y-%m-%d}", "time": "10:30", **extra}  # fmt: skip


@pytest.fixture
def text_rule(db: None) -> ReminderRule:
    ReminderRule.objects.all().delete()
    return days_rule(2, time(10, 0), channel="sms")


def test_booking_without_a_text_route_still_saves_and_the_visit_says_why(
    personas: Any, client_for: Any, clock: Any, text_rule: Any
) -> None:
    schedule = make_schedule(personas)
    patient = _patient(personas, consent=None)
    client = client_for(personas.front_a)
    response = client.post(reverse("scheduling:book"), _booking(schedule, patient))
    assert response.status_code == 302
    appointment = Appointment.objects.get(patient=patient)
    page = client.get(reverse("scheduling:appointment", args=[appointment.pk])).content.decode()
    assert "No text reminders: no consent to text reminders on file." in page
    assert not ContactPreference.objects.filter(patient=patient).exists()
    assert list(Reminder.objects.filter(appointment=appointment).values_list("channel", flat=True)) == ["sms"]


def test_a_textable_patient_s_visit_says_nothing_about_text_reminders(
    personas: Any, client_for: Any, clock: Any
) -> None:
    appointment = book(make_schedule(personas), at_a(personas, MONDAY, 9), notify=False)
    page = client_for(personas.front_a).get(reverse("scheduling:appointment", args=[appointment.pk]))
    assert "No text reminders" not in page.content.decode()


def test_ticking_email_instead_records_the_preference_and_reminds_by_email(
    personas: Any, client_for: Any, clock: Any, text_rule: Any
) -> None:
    schedule = make_schedule(personas)
    patient = _patient(personas, phone=PhoneKind.LANDLINE)
    client = client_for(personas.front_a)
    response = client.post(reverse("scheduling:book"), _booking(schedule, patient, reminders_by_email="1"))
    assert response.status_code == 302
    preference = ContactPreference.objects.get(patient=patient, purpose=Purpose.APPOINTMENTS)
    assert preference.channel == "email" and preference.recorded_by == personas.front_a
    appointment = Appointment.objects.get(patient=patient)
    assert list(Reminder.objects.filter(appointment=appointment).values_list("channel", flat=True)) == [
        "email"
    ]
    page = client.get(reverse("scheduling:appointment", args=[appointment.pk])).content.decode()
    assert "No text reminders: the number is a landline." in page
    assert "Reminders go by email to robin@example.test." in page
    # The next booking says so instead of offering it again.
    again = client.get(reverse("scheduling:book") + f"?patient={patient.pk}").content.decode()
    assert "Reminders go by email to robin@example.test, as the patient prefers." in again
    assert 'name="reminders_by_email"' not in again


def test_a_series_with_email_instead_reminds_every_visit_by_email(
    personas: Any, client_for: Any, clock: Any, text_rule: Any
) -> None:
    schedule = make_schedule(personas)
    patient = _patient(personas, consent=ConsentKind.REVOKED)
    data = {**_booking(schedule, patient, reminders_by_email="1"), "count": 3, "interval_weeks": 1}
    response = client_for(personas.front_a).post(reverse("scheduling:series"), data)
    assert response.status_code == 302
    channels = set(Reminder.objects.filter(appointment__patient=patient).values_list("channel", flat=True))
    assert channels == {"email"} and Appointment.objects.filter(patient=patient).count() == 3


def test_a_series_that_books_nothing_records_no_preference(
    personas: Any, client_for: Any, clock: Any, text_rule: Any
) -> None:
    schedule = make_schedule(personas)
    book(schedule, at_a(personas, MONDAY + timedelta(weeks=1), 10, 30), notify=False)  # Pat takes week two
    patient = _patient(personas, consent=None)
    data = {**_booking(schedule, patient, reminders_by_email="1"), "count": 3, "interval_weeks": 1}
    response = client_for(personas.front_a).post(reverse("scheduling:series"), data)
    assert response.status_code == 400 and "Nothing was booked" in response.content.decode()
    # The choice is kept ticked for the next try, and nothing was recorded.
    assert 'aria-describedby="reminders-by-email-help" checked>' in response.content.decode()
    assert not ContactPreference.objects.filter(patient=patient).exists()


@pytest.mark.parametrize("made", [{"email": ""}, {"confidential": True}])
def test_email_instead_is_refused_without_an_address_or_for_confidential_patients(
    personas: Any, clock: Any, made: dict[str, Any]
) -> None:
    schedule = make_schedule(personas)
    patient = _patient(personas, consent=None, **made)
    with pytest.raises(ValidationError):
        appointment_book(
            patient=patient, clinician=personas.clinician_a, location=personas.location_a,
            appointment_type=schedule.checkup, starts_at=at_a(personas, MONDAY, 9),
            actor=Actor.staff(personas.front_a), source="staff", reminders_by_email=True,
        )  # fmt: skip
    assert not Appointment.objects.filter(patient=patient).exists()
    assert not ContactPreference.objects.filter(patient=patient).exists()


def _channels(appointment: Appointment) -> dict[str, str]:
    return dict(Reminder.objects.filter(appointment=appointment).values_list("channel", "state"))


def test_email_instead_re_plans_the_reminders_already_planned_for_earlier_bookings(
    personas: Any, client_for: Any, clock: Any, text_rule: Any
) -> None:
    schedule = make_schedule(personas)
    patient = _patient(personas, phone=PhoneKind.LANDLINE)
    planned = book(schedule, at_a(personas, MONDAY, 9), patient=patient, notify=False)
    reminded = book(schedule, at_a(personas, MONDAY + timedelta(weeks=1), 9), patient=patient, notify=False)
    assert _channels(planned) == {"sms": "pending"} == _channels(reminded)
    Reminder.objects.filter(appointment=reminded).update(state="sent")  # it went already
    data = _booking(schedule, patient, reminders_by_email="1", date=f"{MONDAY + timedelta(weeks=2):%Y-%m-%d}")
    assert client_for(personas.front_a).post(reverse("scheduling:book"), data).status_code == 302
    assert _channels(planned) == {"sms": "withdrawn", "email": "pending"}
    assert _channels(reminded) == {"sms": "sent"}  # never a second reminder of the same rule


def test_the_planner_brings_back_only_the_reminders_of_the_chosen_channel(
    personas: Any, clock: Any, text_rule: Any
) -> None:
    from careline.patients.services.registry import contact_preference_set

    schedule = make_schedule(personas)
    patient = _patient(personas)
    planned = book(schedule, at_a(personas, MONDAY, 9), patient=patient, notify=False)
    actor = Actor.staff(personas.front_a)
    for channel, expected in [
        ("email", {"sms": "withdrawn", "email": "pending"}),
        ("sms", {"sms": "pending", "email": "withdrawn"}),
        ("email", {"sms": "withdrawn", "email": "pending"}),
    ]:
        contact_preference_set(patient=patient, purpose=Purpose.APPOINTMENTS, channel=channel, actor=actor)
        assert _channels(planned) == expected, channel
