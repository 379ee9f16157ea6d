"""No input to /api/v1/messages produces a server error: random JSON, bytes, headers and query strings."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from careline.patients.tests.api_support import api_for

pytestmark = pytest.mark.django_db

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False)
    | st.text(max_size=60)
    | st.sampled_from(
        ["2030-01-01T09:00:00Z", "2030-01-01T09:00:00", "9999-12-31T23:59:59+14:00", "1", "STOP"]
    )
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
message_like = st.dictionaries(
    st.sampled_from(["patient_id", "body", "send_at"]) | st.text(max_size=8), json_values, max_size=5
)
bodies = (
    message_like.map(json.dumps)
    | json_values.map(json.dumps)
    | st.binary(max_size=200)
    | st.text(max_size=200)
)
keys = st.none() | st.text(max_size=120).filter(lambda k: "\n" not in k and "\r" not in k)

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def front_a(personas):
    return api_for(personas.front_a)


@FUZZ
@given(raw=bodies, key=keys)
def test_sending_never_fails_with_a_server_error(personas, front_a, raw, key):
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    headers = dict(front_a.headers)
    if key is not None:
        headers["Idempotency-Key"] = key
    response = front_a.client.generic(
        "POST", "/api/v1/messages", data, content_type="application/json", headers=headers
    )
    assert response.status_code < 500
    assert "detail" in response.json() or response.status_code == 201


@FUZZ
@given(
    patient=st.sampled_from(["pat", "quinn", "none"]),
    body=st.text(min_size=1, max_size=300),
    send_at=st.none() | st.datetimes(timezones=st.timezones()),
    key=st.text(min_size=1, max_size=20, alphabet="abc123"),
)
def test_plausible_requests_never_fail_and_retries_match(personas, front_a, patient, body, send_at, key):
    patient_id = {"pat": personas.pat.pk, "quinn": personas.quinn.pk, "none": 10**9}[patient]
    payload = {"patient_id": patient_id, "body": body, "send_at": send_at.isoformat() if send_at else None}
    headers = {**front_a.headers, "Idempotency-Key": key}
    first = front_a.client.post("/api/v1/messages", payload, content_type="application/json", headers=headers)
    again = front_a.client.post("/api/v1/messages", payload, content_type="application/json", headers=headers)
    assert first.status_code < 500
    assert again.status_code < 500
    if first.status_code == 201:
        assert again.status_code == 201
        assert again.json()["id"] == first.json()["id"]


@FUZZ
@given(
    params=st.dictionaries(
        st.sampled_from(["patient_id", "limit", "offset"]) | st.text(max_size=8),
        st.text(max_size=40),
        max_size=4,
    )
)
def test_listing_never_fails_with_a_server_error(personas, front_a, params):
    response = front_a.get("/messages", params)
    assert response.status_code < 500
    response.json()
