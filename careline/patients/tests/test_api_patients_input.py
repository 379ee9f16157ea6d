"""Bad input to /api/v1/patients gets a clear, per-field JSON error in one shape and changes nothing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from careline.core.models import AuditEntry
from careline.patients.models import Patient
from careline.patients.tests.api_support import api_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def front_a(personas):
    return api_for(personas.front_a)


def body(personas, **overrides):
    data = {
        "legal_first_name": "Robin",
        "legal_last_name": "Nguyen",
        "date_of_birth": "1990-02-03",
        "primary_location_id": personas.location_a.pk,
    }
    data.update(overrides)
    return data


def errors_of(response):
    payload = response.json()
    assert set(payload) == {"detail", "errors"}
    assert isinstance(payload["detail"], str)
    return {error["field"]: error["message"] for error in payload["errors"]}


def test_create_returns_the_patient_with_phones_in_e164(personas, front_a):
    response = front_a.post("/patients", body(personas, phones=["(312) 555-0199", "+44 20 7946 0958"]))
    assert response.status_code == 201
    created = response.json()
    assert [phone["number"] for phone in created["phones"]] == ["+13125550199", "+442079460958"]
    assert created["phones"][0]["is_primary"] is True
    assert created["mrn"]  # assigned when not given


def test_unknown_fields_are_refused_by_name(personas, front_a):
    response = front_a.post("/patients", body(personas, nickname="Rob", ssn="123"))
    assert response.status_code == 422
    errors = errors_of(response)
    assert set(errors) == {"nickname", "ssn"}
    assert "Unknown field" in errors["nickname"]
    assert Patient.objects.count() == 2


def test_unknown_fields_are_refused_on_update(personas, front_a):
    response = front_a.patch(f"/patients/{personas.pat.pk}", {"favourite_colour": "blue"})
    assert response.status_code == 422
    assert "favourite_colour" in errors_of(response)


def test_wrong_types_are_named_per_field(personas, front_a):
    response = front_a.post(
        "/patients", body(personas, legal_first_name=7, date_of_birth="yesterday", primary_location_id="A")
    )
    assert response.status_code == 422
    assert {"legal_first_name", "date_of_birth", "primary_location_id"} <= set(errors_of(response))


def test_missing_required_fields_are_listed(personas, front_a):
    response = front_a.post("/patients", {"legal_first_name": "Robin"})
    assert response.status_code == 422
    errors = errors_of(response)
    assert errors["legal_last_name"] == "This field is required."
    assert {"date_of_birth", "primary_location_id"} <= set(errors)


def test_bad_phone_gets_a_message_on_that_phone(personas, front_a):
    response = front_a.post("/patients", body(personas, phones=["+13125550199", "call me"]))
    assert response.status_code == 422
    errors = errors_of(response)
    assert "phone number" in errors["phones.1"]
    assert Patient.objects.count() == 2


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("date_of_birth", "2999-01-01", "future"),
        ("date_of_birth", "1850-01-01", "1900"),
        ("date_of_birth", "1990-02-30", "date"),
        ("time_zone", "Mars/Olympus", "time zone"),
        ("time_zone", "../../etc/passwd", "time zone"),
        ("email", "not-an-email", "email"),
        ("country", "USA", "two-letter"),
        ("legal_last_name", "x" * 101, "100"),
        ("legal_last_name", "Nul\x00Byte", "control"),
        ("sex", "robot", "female"),
        ("primary_location_id", 2**70, "less than"),
    ],
)
def test_invalid_values_get_a_clear_message(personas, front_a, field, value, words):
    response = front_a.post("/patients", body(personas, **{field: value}))
    assert response.status_code == 422
    assert words in errors_of(response)[field]
    assert Patient.objects.count() == 2


def test_tomorrows_birth_date_is_refused(personas, front_a):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = front_a.post("/patients", body(personas, date_of_birth=tomorrow))
    assert "future" in errors_of(response)["date_of_birth"]


def test_unknown_location_is_a_field_error(personas, front_a):
    response = front_a.post("/patients", body(personas, primary_location_id=999_999))
    assert response.status_code == 422
    assert errors_of(response) == {"primary_location_id": "There is no such location."}


def test_duplicate_mrn_is_a_field_error_from_the_service(personas, front_a):
    response = front_a.post("/patients", body(personas, mrn="MRN-QUINN-2"))
    assert response.status_code == 422
    assert "mrn" in errors_of(response)


def test_null_cannot_blank_a_required_field_on_update(personas, front_a):
    response = front_a.patch(f"/patients/{personas.pat.pk}", {"legal_last_name": None})
    assert response.status_code == 422
    assert "legal_last_name" in errors_of(response)
    personas.pat.refresh_from_db()
    assert personas.pat.legal_last_name == "Ortega"


def test_update_changes_only_the_fields_sent(personas, front_a):
    response = front_a.patch(f"/patients/{personas.pat.pk}", {"preferred_name": "Patty", "language": "es"})
    assert response.status_code == 200
    personas.pat.refresh_from_db()
    assert (personas.pat.preferred_name, personas.pat.language, personas.pat.legal_first_name) == (
        "Patty",
        "es",
        "Patricia",
    )


def test_malformed_json_is_400(personas, front_a):
    response = front_a.post("/patients", '{"legal_first_name": "Rob",')
    assert response.status_code == 400
    assert errors_of(response) == {}
    assert "JSON" in response.json()["detail"]


@pytest.mark.parametrize("raw", ["[]", "42", '"text"', "null", "true"])
def test_a_body_that_is_not_an_object_is_422(personas, front_a, raw):
    response = front_a.post("/patients", raw)
    assert response.status_code in {400, 422}
    assert set(response.json()) == {"detail", "errors"}


def test_form_encoded_body_is_415(personas, front_a):
    response = front_a.post(
        "/patients", "legal_first_name=Rob", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]


def test_oversized_body_is_413_and_creates_nothing(personas, front_a, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    response = front_a.post("/patients", body(personas, pronouns="x" * 4000))
    assert response.status_code == 413
    assert errors_of(response) == {}
    assert Patient.objects.count() == 2


def test_unknown_patient_is_404_json(personas, front_a):
    response = front_a.get("/patients/999999")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "errors": []}


def test_absurd_patient_id_is_refused_not_crashed(personas, front_a):
    response = front_a.get(f"/patients/{2**80}")
    assert response.status_code == 422
    assert "patient_id" in errors_of(response)


# --- pagination ---------------------------------------------------------------------------------------------


def test_list_pages_with_limit_and_offset(personas):
    client = api_for(personas.admin)
    first = client.get("/patients", {"limit": 1}).json()
    assert (len(first["items"]), first["has_more"], first["next_offset"]) == (1, True, 1)
    second = client.get("/patients", {"limit": 1, "offset": 1}).json()
    assert (len(second["items"]), second["has_more"], second["next_offset"]) == (1, False, None)
    assert first["items"][0]["id"] != second["items"][0]["id"]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": 101}, "limit"), ({"limit": 0}, "limit"), ({"offset": -1}, "offset"), ({"q": "a\x00"}, "q")],
)
def test_list_limits_are_enforced(personas, front_a, params, field):
    response = front_a.get("/patients", params)
    assert response.status_code == 422
    assert field in errors_of(response)


def test_list_refuses_unknown_query_parameters(personas, front_a):
    response = front_a.get("/patients", {"sort": "dob"})
    assert response.status_code == 422
    assert "sort" in errors_of(response)


def test_list_costs_a_fixed_number_of_queries(personas, front_a, django_assert_max_num_queries):
    for number in range(5):
        api_for(personas.admin).post(
            "/patients", body(personas, legal_last_name=f"Ortega{number}", phones=[f"+1312555{number:04d}"])
        )
    # PostgreSQL adds the audit chain's lock and head read (SQLite's head read fits in the 8 already).
    with django_assert_max_num_queries(8 + 2 * (connection.vendor == "postgresql")):
        response = front_a.get("/patients", {"q": "Ortega"})
    assert len(response.json()["items"]) == 6


def test_bad_input_writes_no_audit_entry(personas, front_a):
    before = AuditEntry.objects.count()
    front_a.post("/patients", json.dumps(body(personas, phones=["nope"])))
    assert AuditEntry.objects.count() == before


def test_null_unassigns_the_primary_clinician(personas, front_a):
    response = front_a.patch(f"/patients/{personas.pat.pk}", {"primary_clinician_id": None})
    assert response.status_code == 200
    personas.pat.refresh_from_db()
    assert personas.pat.primary_clinician_id is None


def test_unknown_clinician_is_a_field_error(personas, front_a):
    response = front_a.patch(f"/patients/{personas.pat.pk}", {"primary_clinician_id": 999_999})
    assert response.status_code == 422
    assert errors_of(response) == {"primary_clinician_id": "There is no such active staff member."}


def test_only_a_clinician_can_be_the_primary_clinician(personas, front_a):
    clinician_before = personas.pat.primary_clinician_id
    for staff in (personas.front_a, personas.billing_a, personas.admin):
        response = front_a.patch(f"/patients/{personas.pat.pk}", {"primary_clinician_id": staff.pk})
        assert response.status_code == 422
        assert errors_of(response) == {"primary_clinician_id": "This staff member is not a clinician."}
        created = front_a.post("/patients", body(personas, primary_clinician_id=staff.pk))
        assert created.status_code == 422
    personas.pat.refresh_from_db()
    assert personas.pat.primary_clinician_id == clinician_before
    assert Patient.objects.count() == 2
    ok = front_a.patch(f"/patients/{personas.pat.pk}", {"primary_clinician_id": personas.clinician_a.pk})
    assert ok.status_code == 200


def test_names_with_control_characters_or_direction_overrides_are_refused(personas, front_a):
    for name in ("Rob\x00in", "Rob\u202ein", "Rob\x1bin"):
        response = front_a.post("/patients", body(personas, legal_first_name=name))
        assert response.status_code == 422
        assert errors_of(response) == {"legal_first_name": "Must not contain control characters."}
