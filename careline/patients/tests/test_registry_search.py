"""The patient search box: each kind of query, location limits, query counts and the audit trail."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.urls import reverse

from careline.core.models import AuditAction, AuditEntry
from careline.patients.models import Patient, PatientPhone
from careline.patients.queries.search import parse_birth_date, patient_search, search_plan

pytestmark = pytest.mark.django_db


def _names(patients):
    return [p.mrn for p in patients]


@pytest.mark.parametrize(
    "text",
    [
        "ort",
        "ORT",
        "Ortega",
        "pat",
        "patri",
        "pat ort",
        "ort pat",
        "Ortega, Pat",
        "ortega,patricia",
        "  Ortéga  ",
        "MRN-PAT-1",
        "mrn-pat-1",
        "(312) 555-0111",
        "312.555.0111",
        "+1 312 555 0111",
        "3125550111",
        "1980-04-12",
        "04/12/1980",
        "4/12/80",
    ],
)
def test_each_kind_of_query_finds_pat(personas, text):
    assert _names(patient_search(personas.admin, text)) == ["MRN-PAT-1"]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("", "all"),
        ("ort", "name"),
        ("Ortega, Pat", "name"),
        ("MRN-PAT-1", "mrn"),
        ("(312) 555-0111", "phone"),
        ("4/12/80", "dob"),
        ("12345", "mrn"),
    ],
)
def test_query_kind(text, kind):
    assert search_plan(text).kind == kind


@pytest.mark.parametrize(
    "text",
    [
        "xyz",
        "pat baker",
        "Baker, Pat",
        "MRN-NONE",
        "(312) 555-0000",
        "1980-04-13",
        "tri",
        "!!!",
        "%",
        "_",
        "o%",
    ],
)
def test_non_matching_queries_find_nobody(personas, text):
    assert patient_search(personas.admin, text) == []


def test_two_digit_years_are_never_in_the_future():
    assert parse_birth_date("4/12/80", today=date(2025, 1, 1)) == date(1980, 4, 12)
    assert parse_birth_date("4/12/20", today=date(2025, 1, 1)) == date(2020, 4, 12)
    assert parse_birth_date("4/12/30", today=date(2025, 1, 1)) == date(1930, 4, 12)
    assert parse_birth_date("13/45/1980") is None
    assert parse_birth_date("Ortega") is None


def test_multi_word_last_names_match(personas):
    dlc = Patient.objects.create(
        mrn="M-DLC",
        legal_first_name="Ana",
        legal_last_name="de la Cruz",
        date_of_birth=date(1999, 1, 1),
        primary_location=personas.location_a,
    )
    assert patient_search(personas.admin, "de la cr") == [dlc]
    assert patient_search(personas.admin, "ana de la") == [dlc]
    assert patient_search(personas.admin, "De la Cruz, Ana") == [dlc]


def test_results_are_ordered_by_last_name_and_limited(personas):
    for index, last in enumerate(["Oz", "Orr", "Olsen"]):
        Patient.objects.create(
            mrn=f"M-{index}",
            legal_first_name="Al",
            legal_last_name=last,
            date_of_birth=date(1990, 1, 1),
            primary_location=personas.location_a,
        )
    assert [p.legal_last_name for p in patient_search(personas.admin, "o")] == [
        "Olsen",
        "Orr",
        "Ortega",
        "Oz",
    ]
    assert len(patient_search(personas.admin, "o", limit=2)) == 2


def test_search_cannot_reach_another_locations_patients(personas):
    front_b = personas.front_b
    for text in ["ort", "MRN-PAT-1", "(312) 555-0111", "1980-04-12", "Ortega, Pat"]:
        assert patient_search(front_b, text) == [], text
    assert _names(patient_search(front_b, "baker")) == ["MRN-QUINN-2"]
    assert _names(patient_search(personas.front_a, "")) == ["MRN-PAT-1"]


def test_phone_shared_by_two_patients_finds_both(personas):
    sibling = Patient.objects.create(
        mrn="M-SIB",
        legal_first_name="Pia",
        legal_last_name="Ortega",
        date_of_birth=date(2010, 5, 5),
        primary_location=personas.location_a,
    )
    PatientPhone.objects.create(patient=sibling, number="+13125550111")
    assert set(_names(patient_search(personas.front_a, "312-555-0111"))) == {"MRN-PAT-1", "M-SIB"}


def test_list_page_search_is_audited_with_kind_and_count_but_not_the_text(personas, client_for):
    client = client_for(personas.front_a)
    response = client.get(reverse("patients:list"), {"q": "Ortega, Pat"})
    assert response.status_code == 200
    assert b"MRN-PAT-1" in response.content
    entry = AuditEntry.objects.filter(action=AuditAction.SEARCH).latest("id")
    assert entry.actor == personas.front_a
    assert entry.detail.startswith("kind=name; results=1")
    assert "Ortega" not in entry.detail
    assert "Pat" not in entry.detail


def test_htmx_search_returns_only_the_results(personas, client_for):
    client = client_for(personas.front_a)
    response = client.get(reverse("patients:list"), {"q": "ort"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert (
        response.content.lstrip().startswith(b'<section id="results"')
        or b'id="results"' in response.content[:200]
    )
    assert b"<html" not in response.content
    full = client.get(reverse("patients:list"), {"q": "ort"})
    assert b"<html" in full.content
    assert b'name="q"' in full.content


def test_list_page_pages_through_results(personas, client_for):
    Patient.objects.bulk_create(
        Patient(
            mrn=f"P{index:03d}",
            legal_first_name="Al",
            legal_last_name=f"Zed{index:03d}",
            last_name_key=f"zed{index:03d}",
            first_name_key="al",
            date_of_birth=date(1990, 1, 1),
            primary_location=personas.location_a,
        )
        for index in range(30)
    )
    client = client_for(personas.front_a)
    first = client.get(reverse("patients:list"), {"q": "zed"})
    assert first.context["has_next"]
    assert len(first.context["patients"]) == 25
    second = client.get(reverse("patients:list"), {"q": "zed", "page": "2"})
    assert [p.mrn for p in second.context["patients"]] == [f"P{i:03d}" for i in range(25, 30)]
    assert not second.context["has_next"]
    assert client.get(reverse("patients:list"), {"q": "zed", "page": "-3"}).context["page"] == 1
    assert client.get(reverse("patients:list"), {"q": "zed", "page": "abc"}).status_code == 200


@pytest.mark.parametrize("text", ["", "o", "pat ort", "(312) 555-0111", "1980-04-12", "MRN-PAT-1"])
def test_search_query_count_does_not_grow_with_results(
    personas, client_for, django_assert_max_num_queries, text
):
    Patient.objects.bulk_create(
        Patient(
            mrn=f"Q{index:03d}",
            legal_first_name="Olga",
            legal_last_name=f"Oak{index:03d}",
            last_name_key=f"oak{index:03d}",
            first_name_key="olga",
            date_of_birth=date(1980, 4, 12),
            primary_location=personas.location_a,
        )
        for index in range(40)
    )
    PatientPhone.objects.bulk_create(
        PatientPhone(patient=p, number="+13125550111") for p in Patient.objects.filter(mrn__startswith="Q")
    )
    user = personas.front_a
    user.role_codes  # noqa: B018 - warm the per-request caches, as the middleware already has
    user.location_ids  # noqa: B018
    with django_assert_max_num_queries(3):  # (phone owners) + patients + phones
        patient_search(user, text)
    client = client_for(user)
    client.get(reverse("patients:list"))  # warm the session
    # session, user, roles, locations, patients, phones, audit (chain head, insert; and the chain's lock on
    # PostgreSQL), session save, the navigation's Inbox and Visit requests badges: fixed, whatever the count
    with django_assert_max_num_queries(14 + (connection.vendor == "postgresql")):
        response = client.get(reverse("patients:list"), {"q": text})
    assert response.status_code == 200
