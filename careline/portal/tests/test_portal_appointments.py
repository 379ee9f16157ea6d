"""The portal's Appointments: the patient's visits, confirm/cancel/reschedule on the text rules, the calendar
file, visit requests into the front desk's queue, and Home's "Next visit"."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from icalendar import Calendar

from careline.core.models import ActorKind, AuditEntry
from careline.portal.models import PortalAccount
from careline.scheduling.models import (
    Appointment,
    AppointmentStatus,
    ChangeSource,
    Reminder,
    ReminderRule,
    ReminderState,
    VisitRequest,
    VisitRequestState,
    WaitlistEntry,
    WaitlistOffer,
)
from careline.scheduling.services.reminders import reminders_plan_for_appointment
from careline.scheduling.tests.appointment_support import Schedule
from careline.scheduling.tests.replies_support import MONDAY, NOW, booked, chicago, patient_with_phone, setup
from careline.testing.personas import Personas
from careline.testing.portal import portal_account_for, portal_caregiver_account, portal_sign_in

pytestmark = [pytest.mark.clock(NOW)]


@pytest.fixture
def schedule(personas: Personas, clock: Any) -> Schedule:
    schedule = setup(personas)
    schedule.checkup.preparation_instructions = "Bring your medication list."
    schedule.checkup.preparation_translations = {"es": "Traiga su lista de medicamentos."}
    schedule.checkup.bookable_online = True
    schedule.checkup.save()
    location = personas.location_a
    location.directions = "Enter from Oak Street; parking behind the building."
    location.save()
    return schedule


@pytest.fixture
def visit(schedule: Schedule) -> Appointment:
    return booked(schedule, chicago(MONDAY, 9))


@pytest.fixture
def pat(personas: Personas) -> Client:
    return portal_sign_in(Client(), portal_account_for(personas.pat))


def _url(name: str, appointment: Appointment) -> str:
    return reverse(name, args=[appointment.pk])


# --- pages ----------------------------------------------------------------------------------------------


def test_the_list_shows_upcoming_and_past_visits_with_their_state_in_words(
    visit: Appointment, schedule: Schedule, pat: Client, clock: Any
) -> None:
    clock.move_to(NOW - timedelta(days=30))
    earlier = booked(schedule, chicago(MONDAY - timedelta(days=14), 9))
    clock.move_to(NOW)
    page = pat.get(reverse("portal:appointments")).content.decode()
    assert "Mon, Jan 6 at 9:00 AM" in page and "Booked" in page
    assert "Mon, Dec 23 at 9:00 AM, 2030" in page and "Past" in page
    assert _url("portal:appointment", earlier) in page
    assert _url("portal:appointment_reschedule", visit) in page


def test_the_visit_page_shows_clinician_place_directions_preparation_and_calendar_file(
    visit: Appointment, personas: Personas, pat: Client
) -> None:
    response = pat.get(_url("portal:appointment", visit))
    page = response.content.decode()
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert "Mon, Jan 6 at 9:00 AM" in page and str(personas.clinician_a) in page
    assert personas.location_a.address in page and "America/Chicago" in page
    assert "Enter from Oak Street" in page and "https://www.openstreetmap.org/search?query=1+Main+St" in page
    assert "Bring your medication list." in page
    assert _url("portal:appointment_ics", visit) in page
    for name in ("portal:appointment_confirm", "portal:appointment_reschedule", "portal:appointment_cancel"):
        assert _url(name, visit) in page
    entry = AuditEntry.objects.order_by("seq").last()
    assert entry is not None and entry.actor_kind == ActorKind.PATIENT and entry.object_id == str(visit.pk)


def test_the_visit_page_speaks_the_patients_language(visit: Appointment, personas: Personas) -> None:
    client = portal_sign_in(Client(), portal_account_for(personas.pat, language="es"))
    client.post(reverse("portal:language"), {"language": "es"})
    page = client.get(_url("portal:appointment", visit)).content.decode()
    assert "Traiga su lista de medicamentos." in page
    assert "Cómo prepararse" in page and "Confirmar" in page


def test_buttons_show_only_what_is_allowed_now(
    visit: Appointment, personas: Personas, pat: Client, clock: Any
) -> None:
    pat.post(_url("portal:appointment_confirm", visit))
    page = pat.get(_url("portal:appointment", visit)).content.decode()
    assert _url("portal:appointment_confirm", visit) not in page and "Confirmed" in page
    assert _url("portal:appointment_cancel", visit) in page
    clock.move_to(visit.starts_at + timedelta(minutes=5))
    pat = portal_sign_in(Client(), PortalAccount.objects.get(patient=personas.pat))
    page = pat.get(_url("portal:appointment", visit)).content.decode()
    assert "Confirmed" in page
    page = pat.get(_url("portal:appointment", visit)).content.decode()
    for name in ("portal:appointment_confirm", "portal:appointment_reschedule", "portal:appointment_cancel"):
        assert _url(name, visit) not in page


def test_another_patients_visit_is_not_found(visit: Appointment, personas: Personas) -> None:
    quinn = portal_sign_in(Client(), portal_account_for(personas.quinn, email="quinn@example.test"))
    for name in ("portal:appointment", "portal:appointment_ics", "portal:appointment_reschedule"):
        assert quinn.get(_url(name, visit)).status_code == 404
    for name in ("portal:appointment_confirm", "portal:appointment_cancel", "portal:appointment_reschedule"):
        assert quinn.post(_url(name, visit)).status_code == 404
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED


# --- confirm, cancel, reschedule ------------------------------------------------------------------------


def test_confirming_in_the_portal_records_the_portal_and_the_patient(visit: Appointment, pat: Client) -> None:
    response = pat.post(_url("portal:appointment_confirm", visit))
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CONFIRMED
    assert visit.status_changes.last().source == ChangeSource.PORTAL  # type: ignore[union-attr]


def test_a_caregiver_with_appointments_confirms_for_the_patient(
    visit: Appointment, personas: Personas
) -> None:
    client = portal_sign_in(
        Client(), portal_caregiver_account(personas.pat_caregiver, sections=["appointments"])
    )
    assert client.post(_url("portal:appointment_confirm", visit)).status_code == 302
    entry = AuditEntry.objects.filter(object_id=str(visit.pk)).order_by("seq").last()
    assert entry is not None and entry.actor_kind == ActorKind.CAREGIVER
    assert entry.on_behalf_of_id == personas.pat.pk


def test_cancelling_asks_first_then_refills_from_the_waitlist(
    visit: Appointment, personas: Personas, pat: Client, django_capture_on_commit_callbacks: Any
) -> None:
    waiting = patient_with_phone(personas, "Ann", "+13125550171")
    WaitlistEntry.objects.create(patient=waiting, appointment_type=visit.appointment_type)
    page = pat.get(_url("portal:appointment_cancel", visit)).content.decode()
    assert "Cancel the visit?" in page
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED
    with django_capture_on_commit_callbacks(execute=True):
        pat.post(_url("portal:appointment_cancel", visit))
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CANCELLED_PATIENT
    assert WaitlistOffer.objects.filter(entry__patient=waiting, starts_at=visit.starts_at).count() == 1


def test_the_same_cut_off_as_by_text_once_the_visit_started(
    visit: Appointment, personas: Personas, clock: Any
) -> None:
    clock.move_to(visit.starts_at + timedelta(minutes=1))
    pat = portal_sign_in(Client(), portal_account_for(personas.pat))
    for name in ("portal:appointment_cancel", "portal:appointment_confirm", "portal:appointment_reschedule"):
        response = pat.post(_url(name, visit), follow=True)
        assert "already started" in response.content.decode()
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED


def test_rescheduling_offers_free_times_and_re_times_the_reminders(
    visit: Appointment, personas: Personas, pat: Client
) -> None:
    rule = ReminderRule.objects.create(
        name="Day before", days_before=1, at_local_time="18:00", template_en="Hi"
    )
    reminders_plan_for_appointment(visit)
    page = pat.get(_url("portal:appointment_reschedule", visit)).content.decode()
    target = chicago(MONDAY + timedelta(days=1), 10)
    value = f"{target.isoformat()}|{personas.clinician_a.pk}"
    assert value in page and "Tue, Jan 7" in page
    response = pat.post(_url("portal:appointment_reschedule", visit), {"slot": value})
    assert response.status_code == 302
    visit.refresh_from_db()
    new = Appointment.objects.get(rescheduled_from=visit)
    assert new.starts_at == target and response["Location"] == _url("portal:appointment", new)
    assert Reminder.objects.get(appointment=visit, rule=rule).state == ReminderState.WITHDRAWN
    moved = Reminder.objects.get(appointment=new, rule=rule)
    assert moved.state == ReminderState.PENDING and moved.due_at == chicago(MONDAY, 18)


@pytest.mark.parametrize(
    "value", ["", "nonsense", "2031-01-07T16:00:00+00:00|999999", "2031-01-07T16:05:00+00:00|1"]
)
def test_a_time_that_is_not_offered_changes_nothing(visit: Appointment, pat: Client, value: str) -> None:
    response = pat.post(_url("portal:appointment_reschedule", visit), {"slot": value})
    assert response.status_code == 400
    assert "Choose a new time." in response.content.decode() or "no longer free" in response.content.decode()
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED


# --- the calendar file ----------------------------------------------------------------------------------


def test_the_calendar_file_holds_the_time_and_place_and_nothing_clinical(
    visit: Appointment, personas: Personas, pat: Client
) -> None:
    visit.appointment_type.name_safe_to_text = False
    visit.appointment_type.save()
    response = pat.get(_url("portal:appointment_ics", visit))
    assert response["Content-Type"].startswith("text/calendar")
    assert "no-store" in response["Cache-Control"]
    event = Calendar.from_ical(response.content).walk("VEVENT")[0]
    assert event["SUMMARY"] == "Visit at Northside Clinic"
    assert event["LOCATION"] == f"Northside Clinic, {personas.location_a.address}"
    assert event.decoded("DTSTART") == visit.starts_at and event.decoded("DTEND") == visit.ends_at
    assert "Checkup" not in response.content.decode()


# --- visit requests -------------------------------------------------------------------------------------


def test_a_visit_request_lands_in_the_front_desks_queue(
    schedule: Schedule, personas: Personas, pat: Client, client_for: Any
) -> None:
    page = pat.get(reverse("portal:visit_request")).content.decode()
    assert "Checkup" in page and "Only the clinic&#x27;s staff read this" in page, page[-3000:]
    response = pat.post(
        reverse("portal:visit_request"),
        {
            "appointment_type": schedule.checkup.pk, "location": personas.location_a.pk,
            "preferred_days": ["0", "4"], "preferred_times": ["morning"], "reason": "Shoulder pain",
        },
    )  # fmt: skip
    assert response.status_code == 302
    request = VisitRequest.objects.get()
    assert request.preferred_days == [0, 4] and request.state == VisitRequestState.OPEN
    queue = client_for(personas.front_a).get(reverse("scheduling:visit_requests")).content.decode()
    assert "Shoulder pain" in queue and "Pat" in queue
    listed = pat.get(reverse("portal:appointments")).content.decode()
    assert "Waiting for the clinic" in listed and "Shoulder pain" not in listed


def test_a_bad_visit_request_is_refused_with_a_message(
    schedule: Schedule, personas: Personas, pat: Client
) -> None:
    response = pat.post(
        reverse("portal:visit_request"),
        {
            "appointment_type": schedule.checkup.pk,
            "location": personas.location_b.pk,
            "preferred_days": ["9"],
        },
    )
    assert response.status_code == 400
    assert not VisitRequest.objects.exists()


def test_the_patient_withdraws_an_open_request(schedule: Schedule, personas: Personas, pat: Client) -> None:
    request = VisitRequest.objects.create(
        patient=personas.pat, appointment_type=schedule.checkup, location=personas.location_a
    )
    pat.post(reverse("portal:visit_request_withdraw", args=[request.pk]))
    request.refresh_from_db()
    assert request.state == VisitRequestState.WITHDRAWN


# --- Home -----------------------------------------------------------------------------------------------


def test_home_shows_the_next_visit_with_its_buttons(visit: Appointment, pat: Client) -> None:
    page = pat.get(reverse("portal:home")).content.decode()
    assert "Next visit" in page and "Mon, Jan 6 at 9:00 AM" in page
    for name in ("portal:appointment_confirm", "portal:appointment_reschedule", "portal:appointment_cancel"):
        assert _url(name, visit) in page


def test_home_offers_a_request_without_a_visit(schedule: Schedule, pat: Client) -> None:
    page = pat.get(reverse("portal:home")).content.decode()
    assert "You have no visit booked." in page and reverse("portal:visit_request") in page


def test_a_caregiver_without_appointments_sees_no_visit_card(visit: Appointment, personas: Personas) -> None:
    client = portal_sign_in(Client(), portal_caregiver_account(personas.pat_caregiver, sections=["messages"]))
    assert "Next visit" not in client.get(reverse("portal:home")).content.decode()


# --- query counts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["portal:appointments", "portal:home"])
def test_pages_cost_the_same_queries_for_one_visit_or_many(
    schedule: Schedule, personas: Personas, pat: Client, name: str, django_assert_max_num_queries: Any
) -> None:
    booked(schedule, chicago(MONDAY, 9))
    pat.get(reverse(name))
    with CaptureQueriesContext(connection) as one:
        pat.get(reverse(name))
    for hour in (10, 11, 13, 14):
        booked(schedule, chicago(MONDAY, hour))
    VisitRequest.objects.create(
        patient=personas.pat, appointment_type=schedule.checkup, location=personas.location_a
    )
    with django_assert_max_num_queries(len(one.captured_queries)):
        pat.get(reverse(name))


def test_the_search_box_finds_the_patients_own_visits_only(
    visit: Appointment, schedule: Schedule, personas: Personas, pat: Client
) -> None:
    quinns = booked(schedule, chicago(MONDAY, 10), patient=personas.quinn)
    page = pat.post(reverse("portal:search"), {"q": "checkup northside"}).content.decode()
    assert "Mon, Jan 6 at 9:00 AM" in page and _url("portal:appointment", visit) in page
    assert _url("portal:appointment", quinns) not in page
    assert (
        _url("portal:appointment", visit)
        not in pat.post(reverse("portal:search"), {"q": "dentist"}).content.decode()
    )
