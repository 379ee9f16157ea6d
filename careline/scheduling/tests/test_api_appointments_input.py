"""/api/v1/appointments and /api/v1/slots: bad input gets a 4xx naming the field, and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine

from careline.core.models import AuditAction, AuditEntry
from careline.patients.tests.api_support import api_for
from careline.scheduling.models import Appointment, AppointmentStatus, AppointmentStatusChange, TimeOff
from careline.scheduling.tests.appointment_support import MONDAY, at_a, book, make_schedule

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    with time_machine.travel("2030-12-01T12:00:00Z", tick=False):
        yield


@pytest.fixture
def schedule(personas: Any) -> Any:
    return make_schedule(personas)


@pytest.fixture
def appt(schedule: Any) -> Appointment:
    return book(schedule, at_a(schedule.personas, MONDAY, 9), notify=False)


@pytest.fixture
def front_a(personas: Any) -> Any:
    return api_for(personas.front_a)


def _booking(schedule: Any, **changes: Any) -> dict[str, Any]:
    p = schedule.personas
    body = {
        "patient_id": p.pat.pk,
        "clinician_id": p.clinician_a.pk,
        "location_id": p.location_a.pk,
        "appointment_type_id": schedule.checkup.pk,
        "starts_at": "2031-01-06T10:00:00-06:00",
    }
    body.update(changes)
    return body


def _errors(response: Any) -> dict[str, str]:
    return {error["field"]: error["message"] for error in response.json()["errors"]}


class _Unchanged:
    """Snapshot of the schedule's rows; `.check()` asserts nothing was written since."""

    def __init__(self) -> None:
        self.rows = list(Appointment.objects.order_by("id").values_list("id", "status", "starts_at"))
        self.changes = AppointmentStatusChange.objects.count()
        self.writes = AuditEntry.objects.filter(action__in=[AuditAction.CREATE, AuditAction.UPDATE]).count()

    def check(self) -> None:
        assert list(Appointment.objects.order_by("id").values_list("id", "status", "starts_at")) == self.rows
        assert AppointmentStatusChange.objects.count() == self.changes
        assert (
            AuditEntry.objects.filter(action__in=[AuditAction.CREATE, AuditAction.UPDATE]).count()
            == self.writes
        )


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"colour": "blue"}, "colour", "Unknown field"),
        ({"patient_id": "abc"}, "patient_id", "valid integer"),
        ({"patient_id": 0}, "patient_id", "greater than or equal to 1"),
        ({"starts_at": "next tuesday"}, "starts_at", "datetime"),
        ({"starts_at": "2031-01-06T10:00:00"}, "starts_at", "Include a time zone offset"),
        ({"starts_at": "9999-12-31T23:00:00+00:00"}, "starts_at", "Enter a date between"),
        ({"starts_at": "2030-11-30T10:00:00-06:00"}, "starts_at", "already passed"),
        ({"starts_at": "2031-01-06T07:00:00-06:00"}, "starts_at", "does not work at Northside Clinic then"),
        ({"starts_at": "2031-01-06T09:15:00-06:00"}, "starts_at", "already has a visit from 09:00 to 09:30"),
        ({"patient_id": 999999}, "patient_id", "There is no such patient."),
        ({"clinician_id": 999999}, "clinician_id", "There is no such active staff member."),
        ({"location_id": 999999}, "location_id", "There is no such location."),
        ({"appointment_type_id": 999999}, "appointment_type_id", "There is no such appointment type."),
        ({"allow_outside_hours": "maybe"}, "allow_outside_hours", "valid boolean"),
    ],
)
def test_bad_bookings_are_refused_with_the_field(
    schedule: Any, appt: Appointment, front_a: Any, changes: dict[str, Any], field: str, message: str
) -> None:
    unchanged = _Unchanged()
    response = front_a.post("/appointments", _booking(schedule, **changes))
    assert response.status_code == 422, response.json()
    assert message in _errors(response)[field]
    unchanged.check()


def test_missing_fields_are_each_named(schedule: Any, front_a: Any) -> None:
    response = front_a.post("/appointments", {})
    assert response.status_code == 422
    assert set(_errors(response)) == {
        "patient_id",
        "clinician_id",
        "location_id",
        "appointment_type_id",
        "starts_at",
    }
    assert not Appointment.objects.exists()


def test_a_clinician_who_does_not_take_the_type(personas: Any, schedule: Any, front_a: Any) -> None:
    response = front_a.post("/appointments", _booking(schedule, clinician_id=personas.front_a.pk))
    assert response.status_code == 422
    assert "does not take Checkup visits" in _errors(response)["clinician_id"]
    assert not Appointment.objects.exists()


def test_time_off_and_outside_hours_override(personas: Any, schedule: Any, front_a: Any) -> None:
    TimeOff.objects.create(clinician=personas.clinician_a, starts_at=at_a(personas, MONDAY, 10),
                           ends_at=at_a(personas, MONDAY, 11))  # fmt: skip
    response = front_a.post("/appointments", _booking(schedule))
    assert response.status_code == 422 and "is away then" in _errors(response)["starts_at"]
    early = front_a.post("/appointments", _booking(schedule, starts_at="2031-01-06T08:00:00-06:00",
                                                   allow_outside_hours=True))  # fmt: skip
    assert early.status_code == 201 and early.json()["local_starts_at"] == "2031-01-06T08:00:00-06:00"


def test_a_start_in_another_offset_is_the_same_moment(schedule: Any, front_a: Any) -> None:
    # 16:00 UTC is 10:00 in Chicago in January.
    response = front_a.post("/appointments", _booking(schedule, starts_at="2031-01-06T16:00:00Z"))
    assert response.status_code == 201
    assert response.json()["local_starts_at"] == "2031-01-06T10:00:00-06:00"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "body", "Nothing to change"),
        ({"status": "confirmed", "starts_at": "2031-01-06T11:00:00-06:00"}, "status", "not both"),
        ({"clinician_id": 3}, "starts_at", "A move needs starts_at"),
        ({"status": "cancelled_patient"}, "status", "cancel with POST"),
        ({"status": "completed"}, "status", "has not started yet"),
        ({"status": "checked_in", "note": "x"}, "note", "Unknown field"),
        ({"starts_at": "2031-01-06T11:00:00"}, "starts_at", "Include a time zone offset"),
        ({"starts_at": "2031-01-06T07:00:00-06:00"}, "starts_at", "does not work"),
        (
            {"starts_at": "2031-01-06T11:00:00-06:00", "location_id": 999999},
            "location_id",
            "no such location",
        ),
    ],
)
def test_bad_changes_are_refused(
    appt: Appointment, front_a: Any, body: dict[str, Any], field: str, message: str
) -> None:
    unchanged = _Unchanged()
    response = front_a.patch(f"/appointments/{appt.pk}", body)
    assert response.status_code == 422, response.json()
    assert message in _errors(response)[field]
    unchanged.check()


def test_moving_onto_another_visit_is_refused_and_changes_nothing(
    schedule: Any, appt: Appointment, front_a: Any
) -> None:
    other = book(schedule, at_a(schedule.personas, MONDAY, 11), notify=False)
    unchanged = _Unchanged()
    response = front_a.patch(f"/appointments/{appt.pk}", {"starts_at": "2031-01-06T11:00:00-06:00"})
    assert response.status_code == 422
    assert "already has a visit from 11:00 to 11:30" in _errors(response)["starts_at"]
    unchanged.check()
    appt.refresh_from_db()
    other.refresh_from_db()
    assert appt.status == other.status == AppointmentStatus.BOOKED


def test_cancelling_twice_or_changing_a_cancelled_visit_is_refused(appt: Appointment, front_a: Any) -> None:
    assert front_a.post(f"/appointments/{appt.pk}/cancel", {}).status_code == 200
    unchanged = _Unchanged()
    again = front_a.post(f"/appointments/{appt.pk}/cancel", {"by_patient": True})
    assert again.status_code == 422 and "cancelled by the clinic cannot be changed" in _errors(again)["body"]
    moved = front_a.patch(f"/appointments/{appt.pk}", {"starts_at": "2031-01-06T11:00:00-06:00"})
    assert moved.status_code == 422
    unchanged.check()


def test_bad_cancel_bodies(appt: Appointment, front_a: Any) -> None:
    unchanged = _Unchanged()
    for body, field in (({"why": "x"}, "why"), ({"by_patient": "perhaps"}, "by_patient"),
                        ({"reason": "x" * 201}, "reason"), ({"reason": "a\x00b"}, "reason")):  # fmt: skip
        response = front_a.post(f"/appointments/{appt.pk}/cancel", body)
        assert response.status_code == 422 and field in _errors(response), body
    unchanged.check()


def test_nonexistent_appointments_are_404(front_a: Any) -> None:
    for response in (
        front_a.get("/appointments/999999"),
        front_a.patch("/appointments/999999", {"status": "confirmed"}),
        front_a.post("/appointments/999999/cancel", {}),
    ):
        assert response.status_code == 404 and response.json()["detail"] == "Not found."
    assert front_a.get("/appointments/abc").status_code == 422
    assert front_a.get(f"/appointments/{2**70}").status_code == 422


def test_non_json_bodies(schedule: Any, front_a: Any) -> None:
    assert front_a.post("/appointments", "patient_id=1", content_type="text/plain").status_code == 415
    assert front_a.post("/appointments", "{not json").status_code == 400
    assert front_a.post("/appointments", "[1, 2]").status_code == 422
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"clinican_id": "3"}, "clinican_id", "Unknown parameter"),
        ({"from": "2031-01-06"}, "from", "Include a time zone offset"),
        ({"from": "2031-01-07T00:00:00Z", "to": "2031-01-06T00:00:00Z"}, "to", "Must be after from"),
        ({"status": "lost"}, "status", "Input should be"),
        ({"limit": "0"}, "limit", "greater than or equal to 1"),
        ({"offset": "-1"}, "offset", "greater than or equal to 0"),
        ({"patient_id": "999999"}, "patient_id", "no such patient"),
        ({"location_id": "999999"}, "location_id", "no such location"),
    ],
)
def test_bad_list_filters(
    appt: Appointment, front_a: Any, params: dict[str, str], field: str, message: str
) -> None:
    response = front_a.get("/appointments", params)
    assert response.status_code == 422
    assert message in _errors(response)[field]


def test_list_filters_and_pages(personas: Any, schedule: Any, appt: Appointment, front_a: Any) -> None:
    later = book(schedule, at_a(personas, MONDAY, 14), notify=False)
    page = front_a.get("/appointments", {"limit": "1"}).json()
    assert (
        [item["id"] for item in page["items"]] == [appt.pk] and page["has_more"] and page["next_offset"] == 1
    )
    page = front_a.get("/appointments", {"limit": "1", "offset": "1"}).json()
    assert [item["id"] for item in page["items"]] == [later.pk] and not page["has_more"]
    afternoon = front_a.get(
        "/appointments", {"from": "2031-01-06T12:00:00-06:00", "to": "2031-01-07T00:00:00-06:00"}
    )
    assert [item["id"] for item in afternoon.json()["items"]] == [later.pk]
    front_a.post(f"/appointments/{later.pk}/cancel", {})
    booked = front_a.get("/appointments", {"status": "booked", "clinician_id": personas.clinician_a.pk})
    assert [item["id"] for item in booked.json()["items"]] == [appt.pk]


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({}, "appointment_type_id", "required"),
        ({"appointment_type_id": "999999"}, "appointment_type_id", "no such appointment type"),
        ({"from": "2031-01-06T00:00:00"}, "from", "Include a time zone offset"),
        ({"to": "2031-03-30T00:00:00Z"}, "to", "at most 62 days"),
        ({"to": "2031-01-05T00:00:00Z"}, "to", "Must be after from"),
        ({"limit": "101"}, "limit", "less than or equal to 100"),
        ({"location_id": "999999"}, "location_id", "no such location"),
        ({"clinician_id": "999999"}, "clinician_id", "no such active staff member"),
        ({"when": "soon"}, "when", "Unknown parameter"),
    ],
)
def test_bad_slot_searches(
    schedule: Any, front_a: Any, params: dict[str, str], field: str, message: str
) -> None:
    query = {"appointment_type_id": str(schedule.checkup.pk), "from": "2031-01-06T00:00:00Z",
             "to": "2031-01-07T00:00:00Z"}  # fmt: skip
    if not params:
        del query["appointment_type_id"]
    response = front_a.get("/slots", {**query, **params})
    assert response.status_code == 422, response.json()
    assert message in _errors(response)[field]


def test_slots_skip_booked_times(schedule: Any, appt: Appointment, front_a: Any) -> None:
    query = {"appointment_type_id": schedule.checkup.pk, "from": "2031-01-06T09:00:00-06:00",
             "to": "2031-01-06T10:30:00-06:00"}  # fmt: skip
    starts = [slot["local_starts_at"] for slot in front_a.get("/slots", query).json()]
    assert starts == ["2031-01-06T09:30:00-06:00", "2031-01-06T10:00:00-06:00"]


def test_booking_may_ask_for_reminders_by_email(personas: Any, schedule: Any, front_a: Any) -> None:
    from careline.patients.models import ContactPreference, Patient, Purpose
    from careline.scheduling.models import Reminder

    Patient.objects.filter(pk=personas.pat.pk).update(email="pat@example.test")
    earlier = book(schedule, at_a(personas, MONDAY, 9), notify=False)
    assert set(Reminder.objects.filter(appointment=earlier).values_list("channel", flat=True)) <= {"sms"}
    response = front_a.post("/appointments", _booking(schedule, reminders_by_email=True))
    assert response.status_code == 201
    preference = ContactPreference.objects.get(patient=personas.pat, purpose=Purpose.APPOINTMENTS)
    assert preference.channel == "email" and preference.recorded_by == personas.front_a
    booked = Appointment.objects.get(pk=response.json()["id"])
    for visit in (booked, earlier):  # the visit booked, and reminders already planned for the earlier one
        pending = Reminder.objects.filter(appointment=visit, state="pending")
        assert set(pending.values_list("channel", flat=True)) == {"email"}


def test_reminders_by_email_is_refused_without_an_address(personas: Any, schedule: Any, front_a: Any) -> None:
    from careline.patients.models import ContactPreference, Patient

    Patient.objects.filter(pk=personas.pat.pk).update(email="")
    unchanged = _Unchanged()
    response = front_a.post("/appointments", _booking(schedule, reminders_by_email=True))
    assert response.status_code == 422
    assert "no email address" in _errors(response)["patient_id"]
    unchanged.check()
    assert not ContactPreference.objects.filter(patient=personas.pat).exists()


def test_the_schema_documents_reminders_by_email(personas: Any, client_for: Any) -> None:
    schema = client_for(personas.admin).get("/api/v1/openapi.json").json()
    booking = schema["components"]["schemas"]["AppointmentCreateIn"]["properties"]["reminders_by_email"]
    assert booking["type"] == "boolean" and booking["default"] is False
    assert "email" in booking["description"]
