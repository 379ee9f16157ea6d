"""Checking and applying a patient CSV: every row is checked, and one bad row means nothing is imported."""

from __future__ import annotations

import pytest

from careline.core.actor import Actor
from careline.core.models import AuditAction, AuditEntry
from careline.patients.models import ConsentEvent, ConsentKind, ConsentMethod, Patient, PatientPhone
from careline.patients.services.imports import import_apply, import_check
from careline.patients.tests.import_support import GOOD_ROWS, HEADER, csv_bytes

pytestmark = pytest.mark.django_db


def _run(data: bytes, user=None):
    result = import_check(data=data, user=user)
    created = 0 if result.errors else import_apply(rows=result.rows, actor=Actor.system("patient-import"))
    return result, created


def _where(result):
    return {(error["row"], error["column"]) for error in result.errors}


def test_a_good_file_imports_every_patient_with_phones_consent_and_search_keys(personas):
    result, created = _run(csv_bytes(*GOOD_ROWS))
    assert result.errors == []
    assert created == 3
    jose = Patient.objects.get(mrn="N-100")
    assert (jose.legal_first_name, jose.preferred_name, jose.sex, jose.language) == (
        "José",
        "Pepe",
        "male",
        "es",
    )
    assert jose.last_name_key == "alvarez"  # bulk_create skips save(); the keys must still be there
    assert jose.primary_location == personas.location_a
    assert Patient.objects.get(mrn="N-101").date_of_birth.isoformat() == "1990-02-28"
    assert PatientPhone.objects.get(patient=jose).number == "+13125550140"
    assert PatientPhone.objects.get(patient__mrn="N-101").kind == "landline"
    assert not PatientPhone.objects.filter(patient__mrn="N-102").exists()
    consent = {event.patient.mrn: event for event in ConsentEvent.objects.filter(method=ConsentMethod.IMPORT)}
    assert consent["N-100"].kind == ConsentKind.GIVEN
    assert consent["N-101"].kind == ConsentKind.REVOKED
    assert "N-102" not in consent
    assert AuditEntry.objects.filter(action=AuditAction.IMPORT, patient_id=jose.pk).exists()


def test_bad_rows_import_nothing_and_are_reported_by_row_and_column(personas):
    data = csv_bytes(
        GOOD_ROWS[0],
        "N-200,Ann,Bad,,1990-13-45,,,,,,Northside Clinic,",
        "N-201,Ben,Bad,,1990-01-01,,,12,,,Northside Clinic,",
        "N-202,,Bad,,1990-01-01,x,fr,,,not-an-email,Nowhere Clinic,maybe",
    )
    result, created = _run(data)
    assert created == 0
    assert Patient.objects.count() == 2  # Pat and Quinn only
    assert _where(result) == {
        (3, "date_of_birth"),
        (4, "phone"),
        (5, "first_name"),
        (5, "sex"),
        (5, "language"),
        (5, "email"),
        (5, "location"),
        (5, "sms_consent"),
    }
    assert all(error["message"] for error in result.errors)


def test_duplicate_mrns_inside_the_file_and_against_the_registry_are_refused(personas):
    data = csv_bytes(
        GOOD_ROWS[0],
        GOOD_ROWS[0].replace("José", "Joe"),
        "MRN-PAT-1,Pat,Again,,1980-04-12,,,,,,Northside Clinic,",
    )
    result, created = _run(data)
    assert created == 0
    assert _where(result) == {(3, "mrn"), (4, "mrn")}
    assert "row 2" in result.errors[0]["message"]
    assert "already registered" in result.errors[1]["message"]


def test_unknown_and_missing_columns_are_reported_before_any_row(personas):
    result, _ = _run(csv_bytes("1,2,3", header="mrn,first_name,favourite_colour"))
    assert _where(result) == {
        (1, "favourite_colour"),
        (1, "last_name"),
        (1, "date_of_birth"),
        (1, "location"),
    }
    assert not Patient.objects.filter(mrn="1").exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\n\n", "empty"),
        ((HEADER + "\n").encode(), "no patients"),
        ("mrn,first_name\nN-1,Zoë\n".encode("latin-1"), "not UTF-8"),
    ],
)
def test_file_level_problems_are_reported_without_a_row(personas, data, message):
    result, created = _run(data)
    assert created == 0
    assert len(result.errors) == 1
    assert result.errors[0]["row"] is None
    assert message in result.errors[0]["message"]


def test_an_oversized_file_is_refused(personas, settings):
    settings.CARELINE_MAX_IMPORT_BYTES = 100
    result, created = _run(csv_bytes(*GOOD_ROWS))
    assert created == 0
    assert "larger than" in result.errors[0]["message"]


def test_a_byte_order_mark_and_header_case_are_accepted(personas):
    data = b"\xef\xbb\xbf" + csv_bytes(GOOD_ROWS[2], header=HEADER.upper())
    result, created = _run(data)
    assert result.errors == []
    assert created == 1


def test_a_row_with_more_values_than_columns_is_refused(personas):
    result, _ = _run(csv_bytes(GOOD_ROWS[2] + ",extra"))
    assert _where(result) == {(2, "")}


def test_a_person_may_only_import_into_their_own_locations(personas):
    harbor = "N-300,Hal,Harbor,,1990-01-01,,,,,,Harbor Clinic,"
    result = import_check(data=csv_bytes(harbor), user=personas.front_a)
    assert _where(result) == {(2, "location")}
    assert import_check(data=csv_bytes(harbor), user=personas.admin).errors == []


def test_validation_reports_progress(personas):
    seen = []
    rows = [f"P-{i},A,B,,1990-01-01,,,,,,Northside Clinic," for i in range(450)]
    result = import_check(data=csv_bytes(*rows), progress=lambda done, total: seen.append((done, total)))
    assert result.errors == []
    assert seen == [(200, 450), (400, 450), (450, 450)]
    assert import_apply(rows=result.rows, actor=Actor.system("patient-import")) == 450


def test_control_characters_and_direction_overrides_are_refused_by_row_and_column(personas):
    data = csv_bytes(
        GOOD_ROWS[0],
        "N-300,Ann\x00ie,Lee,,1990-01-01,,,,,,Northside Clinic,",
        "N-301,Ben,\u202eeeL,,1990-01-01,,,,,,Northside Clinic,",
        "N-302,Cy,Kim,Cy\x1b[31m,1990-01-01,,,,,,Northside Clinic,",
    )
    result, created = _run(data)
    assert created == 0
    assert Patient.objects.count() == 2
    assert _where(result) == {(3, "first_name"), (4, "last_name"), (5, "preferred_name")}
    assert all("control characters" in error["message"] for error in result.errors)


def test_birth_dates_at_the_ends_of_the_calendar_are_refused(personas):
    data = csv_bytes(
        "N-400,Ann,Lee,,0001-01-01,,,,,,Northside Clinic,", "N-401,Bo,Lee,,9999-12-31,,,,,,Northside Clinic,"
    )
    result, created = _run(data)
    assert created == 0
    assert _where(result) == {(2, "date_of_birth"), (3, "date_of_birth")}
