"""No input to /api/v1/patients produces a server error: random JSON, random bytes, random query strings."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from careline.patients.tests.api_support import api_for

pytestmark = pytest.mark.django_db

FIELDS = [
    "mrn", "legal_first_name", "legal_last_name", "preferred_name", "date_of_birth", "sex", "pronouns",
    "language", "time_zone", "address_line1", "city", "country", "email", "primary_location_id",
    "primary_clinician_id", "status", "confidential_communications", "phones",
]  # fmt: skip

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False)
    | st.text(max_size=60)
    | st.sampled_from(
        ["1990-02-03", "2999-01-01", "+13125550199", "America/Chicago", "female", "es", "US", "1"]
    )
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
# Objects whose keys are mostly real field names, so validation goes deep rather than stopping at "unknown".
patient_like = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=12), json_values, max_size=10)
bodies = (
    patient_like.map(json.dumps)
    | json_values.map(json.dumps)
    | st.binary(max_size=200)
    | st.text(max_size=200)
)

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def front_a(personas):
    return api_for(personas.front_a)


@FUZZ
@given(raw=bodies)
def test_create_never_fails_with_a_server_error(personas, front_a, raw):
    response = front_a.post("/patients", raw)
    assert response.status_code < 500
    assert "detail" in response.json() or response.status_code == 201


@FUZZ
@given(raw=bodies)
def test_update_never_fails_with_a_server_error(personas, front_a, raw):
    response = front_a.patch(f"/patients/{personas.pat.pk}", raw)
    assert response.status_code < 500
    response.json()


@FUZZ
@given(
    params=st.dictionaries(
        st.sampled_from(["q", "limit", "offset"]) | st.text(max_size=8), st.text(max_size=40), max_size=4
    )
)
def test_list_never_fails_with_a_server_error(personas, front_a, params):
    response = front_a.get("/patients", params)
    assert response.status_code < 500
    response.json()


@FUZZ
@given(segment=st.text(max_size=30))
def test_detail_never_fails_with_a_server_error(personas, front_a, segment):
    response = front_a.client.get("/api/v1/patients/" + segment, headers=front_a.headers)
    assert response.status_code < 500


@FUZZ
@given(
    content_type=st.sampled_from(
        [
            "text/plain",
            "application/xml",
            "multipart/form-data",
            "",
            "application/json; charset=latin-1",
            "application/merge-patch+json",
        ]
    ),
    raw=bodies,
)
def test_any_content_type_is_handled(personas, front_a, content_type, raw):
    response = front_a.post("/patients", raw, content_type=content_type)
    assert response.status_code < 500
