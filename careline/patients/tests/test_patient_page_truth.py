"""The patient page and the patient lists tell the truth when there is nothing to show: no access is not "no
notes", a page past the last is not "no patients", a search that found nobody says so. And the details card
reads at any width (a definition list that wraps, long emails and addresses broken)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from careline.core.actor import Actor
from careline.core.permissions import ROLE_PERMISSIONS, Perm, Role
from careline.patients.models import NoteKind, Patient
from careline.patients.services.notes import note_add

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.fixture
def clinical_only(personas):
    """Pat has one note, a clinical one."""
    note_add(
        patient=personas.pat,
        kind=NoteKind.CLINICAL,
        text="BP 150/95, recheck",
        actor=Actor.staff(personas.clinician_a),
    )
    return personas


# --- care notes ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["patients:detail", "patients:notes"])
def test_a_role_without_clinical_notes_is_told_so_not_that_there_are_none(clinical_only, client_for, page):
    text = _text(client_for(clinical_only.front_a).get(reverse(page, args=[clinical_only.pat.pk])))
    assert "You don't have access to clinical notes" in text
    assert "No notes yet" not in text
    assert "BP 150/95" not in text


@pytest.mark.parametrize("page", ["patients:detail", "patients:notes"])
def test_a_clinician_with_no_notes_sees_no_notes_yet(personas, client_for, page):
    text = _text(client_for(personas.clinician_a).get(reverse(page, args=[personas.pat.pk])))
    assert "No notes yet" in text
    assert "don't have access" not in text


def test_the_clinical_notes_are_not_queried_for_a_role_without_them(clinical_only, client_for):
    client = client_for(clinical_only.front_a)
    with CaptureQueriesContext(connection) as captured:
        client.get(reverse("patients:detail", args=[clinical_only.pat.pk]))
    note_queries = [q["sql"] for q in captured.captured_queries if '"patients_carenote"' in q["sql"]]
    assert note_queries, "the non-clinical notes are still read"
    assert all("clinical" not in sql.split("WHERE", 1)[1] for sql in note_queries if "WHERE" in sql)


def test_a_role_without_any_notes_sees_no_access_and_no_note_is_read(clinical_only, client_for, monkeypatch):
    billing = ROLE_PERMISSIONS[Role.BILLING] - {Perm.NOTE_VIEW, Perm.NOTE_ADD}
    monkeypatch.setitem(ROLE_PERMISSIONS, Role.BILLING, billing)
    client = client_for(clinical_only.billing_a)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("patients:detail", args=[clinical_only.pat.pk]))
    assert response.status_code == 200
    text = _text(response)
    assert "You don't have access to care notes" in text
    assert "No notes yet" not in text and "All notes and pinned alerts" not in text
    assert not [q for q in captured.captured_queries if '"patients_carenote"' in q["sql"]]


# --- lists: a page past the last, an empty search ------------------------------------------------------------


def _many_patients(personas, count: int) -> None:
    Patient.objects.bulk_create(
        Patient(
            mrn=f"MRN-MANY-{n}",
            legal_first_name="Many",
            legal_last_name=f"Person{n:03d}",
            date_of_birth=personas.pat.date_of_birth,
            primary_location=personas.location_a,
        )
        for n in range(count)
    )


def test_a_patient_list_page_past_the_last_says_which_is_the_last(personas, client_for):
    _many_patients(personas, 30)  # with Pat: 31 at location A, two pages of 25
    response = client_for(personas.front_a).get(reverse("patients:list"), {"page": "999"})
    assert response.status_code == 200
    text = _text(response)
    assert "There is nothing on page 999; the last page is 2" in text
    assert "No patients yet" not in text
    assert 'href="?page=2"' in response.content.decode()


def test_a_search_page_past_the_last_keeps_the_search_in_the_link(personas, client_for):
    response = client_for(personas.front_a).get(reverse("patients:list"), {"q": "Ortega", "page": "7"})
    assert "There is nothing on page 7; the last page is 1" in _text(response)
    assert 'href="?q=Ortega&amp;page=1"' in response.content.decode()


def test_a_search_that_matches_nobody_says_no_patient_matched(personas, client_for):
    text = _text(client_for(personas.front_a).get(reverse("patients:list"), {"q": "Zyxwv"}))
    assert "No patient matched “Zyxwv”" in text
    assert "No patients yet" not in text


def test_an_empty_list_of_ones_own_locations_says_so(personas, client_for):
    Patient.objects.filter(primary_location=personas.location_b).delete()
    text = _text(client_for(personas.front_b).get(reverse("patients:list")))
    assert "No patients at your locations yet" in text


def test_a_notes_page_past_the_last_says_which_is_the_last(personas, client_for):
    for n in range(3):
        note_add(
            patient=personas.pat, kind=NoteKind.HANDOFF, text=f"Note {n}", actor=Actor.staff(personas.front_a)
        )
    response = client_for(personas.front_a).get(
        reverse("patients:notes", args=[personas.pat.pk]), {"page": "999"}
    )
    text = _text(response)
    assert "There is nothing on page 999; the last page is 1" in text
    assert "No notes yet" not in text and "Note 0" not in text


# --- the details card ----------------------------------------------------------------------------------------


def test_the_details_card_is_a_wrapping_definition_list(personas, client_for):
    Patient.objects.filter(pk=personas.pat.pk).update(
        email="patricia.ortega-hernandez.with.a.very.long.address@subdomain.example-clinic.test",
        address_line1="12345 North Extraordinarily Long Boulevard Name Apartment 1234",
    )
    html = (
        client_for(personas.front_a).get(reverse("patients:detail", args=[personas.pat.pk])).content.decode()
    )
    assert '<dl class="facts details-list">' in html
    assert "patricia.ortega-hernandez.with.a.very.long.address@subdomain.example-clinic.test" in html
    css = (
        pytest.importorskip("pathlib").Path(__file__).parents[2] / "static/careline/careline.css"
    ).read_text()
    assert "overflow-wrap: anywhere" in css.split("dl.facts dd", 1)[1].split("}", 1)[0]
