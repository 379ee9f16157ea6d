"""/api/v1/appointments and /api/v1/slots: each persona's token on each route, outsiders, and the audit trail."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine

from careline.core.models import AuditAction, AuditChannel, AuditEntry
from careline.patients.tests.api_support import ApiClient, api_for
from careline.scheduling.models import Appointment, AppointmentStatus, AppointmentStatusChange, ChangeSource
from careline.scheduling.tests.appointment_support import MONDAY, at_a, book, make_schedule

pytestmark = pytest.mark.django_db
PERSONAS = ("admin", "front_a", "clinician_a", "billing_a", "front_b")
# Pat is at location A: everyone at A may read; billing may not write; front desk at B may do neither.
READ = {"admin": 200, "front_a": 200, "clinician_a": 200, "billing_a": 200, "front_b": 403}
WRITE = {"admin": 200, "front_a": 200, "clinician_a": 200, "billing_a": 403, "front_b": 403}
FORBIDDEN = {"detail": "You do not have permission to do this.", "errors": []}


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


def _booking(schedule: Any, hour: int = 10) -> dict[str, Any]:
    p = schedule.personas
    return {
        "patient_id": p.pat.pk,
        "clinician_id": p.clinician_a.pk,
        "location_id": p.location_a.pk,
        "appointment_type_id": schedule.checkup.pk,
        "starts_at": f"{MONDAY:%Y-%m-%d}T{hour:02d}:00:00-06:00",
    }


@pytest.mark.parametrize("who", PERSONAS)
def test_list(personas: Any, appt: Appointment, who: str) -> None:
    client = api_for(personas.staff[who])
    response = client.get("/appointments")
    assert response.status_code == 200
    ids = [item["id"] for item in response.json()["items"]]
    # front_b sees the list, but not Pat's visit at location A.
    assert ids == ([] if who == "front_b" else [appt.pk])
    by_patient = client.get("/appointments", {"patient_id": personas.pat.pk})
    assert by_patient.status_code == READ[who]
    by_location = client.get("/appointments", {"location_id": personas.location_a.pk})
    assert by_location.status_code == READ[who]
    if who == "front_b":
        assert by_patient.json() == FORBIDDEN


@pytest.mark.parametrize("who", PERSONAS)
def test_detail(personas: Any, appt: Appointment, who: str) -> None:
    response = api_for(personas.staff[who]).get(f"/appointments/{appt.pk}")
    assert response.status_code == READ[who]
    if response.status_code == 200:
        body = response.json()
        assert body["id"] == appt.pk and body["status"] == "booked"
        assert body["local_starts_at"] == "2031-01-06T09:00:00-06:00"
        assert body["starts_at"] == "2031-01-06T15:00:00Z"
    else:
        assert response.json() == FORBIDDEN


@pytest.mark.parametrize("who", PERSONAS)
def test_create(personas: Any, schedule: Any, who: str) -> None:
    response = api_for(personas.staff[who]).post("/appointments", _booking(schedule))
    expected = 201 if WRITE[who] == 200 else 403
    assert response.status_code == expected
    if expected == 201:
        created = Appointment.objects.get()
        assert response.json()["id"] == created.pk
        assert created.created_by == personas.staff[who]
        change = AppointmentStatusChange.objects.get(appointment=created)
        assert change.source == ChangeSource.API and change.actor == personas.staff[who]
        entry = AuditEntry.objects.get(action=AuditAction.CREATE, object_type="scheduling.appointment")
        assert entry.channel == AuditChannel.API and entry.patient_id == personas.pat.pk
    else:
        assert response.json() == FORBIDDEN
        assert not Appointment.objects.exists()


@pytest.mark.parametrize("who", PERSONAS)
def test_move(personas: Any, appt: Appointment, who: str) -> None:
    response = api_for(personas.staff[who]).patch(
        f"/appointments/{appt.pk}", {"starts_at": "2031-01-06T11:00:00-06:00"}
    )
    assert response.status_code == WRITE[who]
    appt.refresh_from_db()
    if response.status_code == 200:
        assert appt.status == AppointmentStatus.RESCHEDULED
        new = Appointment.objects.get(pk=response.json()["id"])
        assert new.rescheduled_from == appt and response.json()["local_starts_at"].startswith(
            "2031-01-06T11:00"
        )
    else:
        assert appt.status == AppointmentStatus.BOOKED and Appointment.objects.count() == 1


@pytest.mark.parametrize("who", PERSONAS)
def test_status_change(personas: Any, appt: Appointment, who: str) -> None:
    response = api_for(personas.staff[who]).patch(f"/appointments/{appt.pk}", {"status": "confirmed"})
    assert response.status_code == WRITE[who]
    appt.refresh_from_db()
    assert appt.status == (AppointmentStatus.CONFIRMED if WRITE[who] == 200 else AppointmentStatus.BOOKED)


@pytest.mark.parametrize("who", PERSONAS)
def test_cancel(personas: Any, appt: Appointment, who: str) -> None:
    response = api_for(personas.staff[who]).post(
        f"/appointments/{appt.pk}/cancel", {"by_patient": True, "reason": "Feeling better"}
    )
    assert response.status_code == WRITE[who]
    appt.refresh_from_db()
    if response.status_code == 200:
        assert appt.status == AppointmentStatus.CANCELLED_PATIENT
        assert response.json()["status"] == "cancelled_patient"
        assert appt.status_changes.last().detail == "Feeling better"  # type: ignore[union-attr]
    else:
        assert appt.status == AppointmentStatus.BOOKED


@pytest.mark.parametrize("who", PERSONAS)
def test_slots(personas: Any, schedule: Any, who: str) -> None:
    client = api_for(personas.staff[who])
    query = {"appointment_type_id": schedule.checkup.pk, "from": "2031-01-06T00:00:00-06:00",
             "to": "2031-01-07T00:00:00-06:00", "limit": 2}  # fmt: skip
    response = client.get("/slots", query)
    assert response.status_code == 200
    starts = [slot["local_starts_at"] for slot in response.json()]
    # Location A's slots are not front_b's to offer.
    assert starts == ([] if who == "front_b" else ["2031-01-06T09:00:00-06:00", "2031-01-06T09:30:00-06:00"])
    at_a_only = client.get("/slots", {**query, "location_id": personas.location_a.pk})
    assert at_a_only.status_code == READ[who]


def test_front_desk_cannot_book_across_locations(personas: Any, schedule: Any) -> None:
    # front_a may not book Quinn (location B's patient), nor book Pat at location B.
    front_a = api_for(personas.front_a)
    assert (
        front_a.post("/appointments", {**_booking(schedule), "patient_id": personas.quinn.pk}).status_code
        == 403
    )
    assert (
        front_a.post(
            "/appointments", {**_booking(schedule), "location_id": personas.location_b.pk}
        ).status_code
        == 403
    )
    assert not Appointment.objects.exists()


def test_outsiders_get_401_everywhere(personas: Any, appt: Appointment, schedule: Any) -> None:
    routes = [
        ("GET", "/appointments", None),
        ("POST", "/appointments", _booking(schedule)),
        ("GET", f"/appointments/{appt.pk}", None),
        ("PATCH", f"/appointments/{appt.pk}", {"status": "confirmed"}),
        ("POST", f"/appointments/{appt.pk}/cancel", {}),
        ("GET", f"/slots?appointment_type_id={schedule.checkup.pk}&from=2031-01-06T00:00:00Z&to=2031-01-07T00:00:00Z", None),
    ]  # fmt: skip
    for client in (ApiClient(None), ApiClient("not-a-token")):
        for method, path, body in routes:
            if body is None:
                response = client.client.get("/api/v1" + path, headers=client.headers)
            else:
                response = client.send(method, path, body)
            assert response.status_code == 401, (method, path)
            assert response["WWW-Authenticate"].startswith("Bearer")
    appt.refresh_from_db()
    assert appt.status == AppointmentStatus.BOOKED and Appointment.objects.count() == 1


def test_reads_are_audited_on_the_api_channel(personas: Any, appt: Appointment, schedule: Any) -> None:
    before = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    client = api_for(personas.front_a)
    client.get("/appointments", {"patient_id": personas.pat.pk})
    client.get(f"/appointments/{appt.pk}")
    client.get("/slots", {"appointment_type_id": schedule.checkup.pk, "from": "2031-01-06T00:00:00Z",
                          "to": "2031-01-07T00:00:00Z"})  # fmt: skip
    entries = AuditEntry.objects.filter(id__gt=before).order_by("id")
    assert [(e.action, e.object_type) for e in entries] == [
        (AuditAction.SEARCH, "scheduling.appointment"),
        (AuditAction.VIEW, "scheduling.appointment"),
        (AuditAction.SEARCH, "scheduling.slot"),
    ]
    assert all(e.channel == AuditChannel.API for e in entries)
    assert (
        f"patient {personas.pat.pk}" in entries[0].detail and f"returned ids: {appt.pk}" in entries[0].detail
    )
    assert entries[1].patient_id == personas.pat.pk


def test_openapi_document_describes_the_routes_and_the_time_format(personas: Any) -> None:
    document = api_for(personas.front_a).get("/openapi.json").json()
    assert {
        "/api/v1/appointments",
        "/api/v1/appointments/{appointment_id}",
        "/api/v1/appointments/{appointment_id}/cancel",
        "/api/v1/slots",
    } <= set(document["paths"])
    create = document["components"]["schemas"]["AppointmentCreateIn"]
    assert "UTC offset" in create["properties"]["starts_at"]["description"]
    assert create.get("additionalProperties") is False
