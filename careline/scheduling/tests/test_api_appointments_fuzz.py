"""No input to /api/v1/appointments or /api/v1/slots produces a server error."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from careline.patients.tests.api_support import api_for
from careline.scheduling.tests.appointment_support import MONDAY, at_a, book, make_schedule

pytestmark = pytest.mark.django_db

FIELDS = [
    "patient_id", "clinician_id", "location_id", "appointment_type_id", "starts_at", "allow_outside_hours",
    "status", "by_patient", "reason",
]  # fmt: skip
PARAMS = [
    "patient_id", "location_id", "clinician_id", "status", "from", "to", "limit", "offset",
    "appointment_type_id",
]  # fmt: skip

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.integers(min_value=1, max_value=5)
    | st.floats(allow_nan=False)
    | st.text(max_size=40)
    | st.sampled_from(
        [
            "2031-01-06T09:00:00-06:00",
            "2031-01-06T10:15:00Z",
            "2031-01-06T10:00:00",
            "2030-11-01T09:00:00Z",
            "9999-12-31T23:59:59+14:00",
            "0001-01-01T00:00:00-12:00",
            "confirmed",
            "checked_in",
            "completed",
            "no_show",
            "cancelled_patient",
            "booked",
            "1",
        ]
    )
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)
appointment_like = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=10), json_values, max_size=8)
bodies = (
    appointment_like.map(json.dumps)
    | json_values.map(json.dumps)
    | st.binary(max_size=120)
    | st.text(max_size=120)
)
param_values = st.text(max_size=30) | st.sampled_from(
    [
        "2031-01-06T00:00:00Z",
        "2031-01-06T00:00:00+14:00",
        "2031-03-30T00:00:00-12:00",
        "1",
        "0",
        "99999999999999999999",
    ]
)
params = st.dictionaries(st.sampled_from(PARAMS) | st.text(max_size=6), param_values, max_size=5)

FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def setup(personas: Any) -> Any:
    schedule = make_schedule(personas)
    appt = book(schedule, at_a(personas, MONDAY, 9), notify=False)
    return api_for(personas.front_a), appt


@FUZZ
@given(raw=bodies)
def test_create(setup: Any, raw: Any) -> None:
    client, _ = setup
    response = client.post("/appointments", raw)
    assert response.status_code < 500
    assert "detail" in response.json() or response.status_code == 201


@FUZZ
@given(raw=bodies)
def test_update(setup: Any, raw: Any) -> None:
    client, appt = setup
    response = client.patch(f"/appointments/{appt.pk}", raw)
    assert response.status_code < 500
    response.json()


@FUZZ
@given(raw=bodies)
def test_cancel(setup: Any, raw: Any) -> None:
    client, appt = setup
    response = client.post(f"/appointments/{appt.pk}/cancel", raw)
    assert response.status_code < 500
    response.json()


@FUZZ
@given(query=params)
def test_list(setup: Any, query: dict[str, str]) -> None:
    client, _ = setup
    response = client.get("/appointments", query)
    assert response.status_code < 500
    response.json()


@FUZZ
@given(query=params)
def test_slots(setup: Any, query: dict[str, str]) -> None:
    client, _ = setup
    response = client.get("/slots", query)
    assert response.status_code < 500
    response.json()


@FUZZ
@given(segment=st.text(max_size=30))
def test_detail(setup: Any, segment: str) -> None:
    client, _ = setup
    response = client.client.get("/api/v1/appointments/" + segment, headers=client.headers)
    assert response.status_code < 500
