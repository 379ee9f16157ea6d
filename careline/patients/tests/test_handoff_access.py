"""Who may use the handoff page, what it shows them, its audit entries and its query count."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from careline.core.actor import Actor
from careline.core.models import AuditAction, AuditEntry
from careline.patients.models import NoteKind, Patient
from careline.patients.services.notes import note_add, note_amend

pytestmark = pytest.mark.django_db

EXPECTED = {"admin": 200, "front_a": 200, "clinician_a": 200, "billing_a": 403, "front_b": 200}


@pytest.fixture
def notes(personas):
    return {
        "pat": note_add(
            patient=personas.pat,
            kind=NoteKind.HANDOFF,
            text="Pat needs a ride",
            actor=Actor.staff(personas.front_a),
        ),
        "pat_clinical": note_add(
            patient=personas.pat,
            kind=NoteKind.CLINICAL,
            text="Pat wound check",
            actor=Actor.staff(personas.clinician_a),
        ),
        "quinn": note_add(
            patient=personas.quinn,
            kind=NoteKind.HANDOFF,
            text="Quinn rescheduled",
            actor=Actor.staff(personas.front_b),
        ),
    }


@pytest.mark.parametrize("persona", list(EXPECTED))
def test_each_persona_may_open_the_handoff_page_only_with_the_handoff_permission(
    personas, client_for, persona
):
    assert (
        client_for(getattr(personas, persona)).get(reverse("patients:handoff")).status_code
        == EXPECTED[persona]
    )


def test_outsider_is_sent_to_sign_in(personas, client_for):
    response = client_for(None).get(reverse("patients:handoff"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_handoff_excludes_other_locations_patients_even_when_asked_for(personas, client_for, notes):
    client = client_for(personas.front_a)
    own = client.get(reverse("patients:handoff")).content.decode()
    assert "Pat needs a ride" in own
    assert "Quinn rescheduled" not in own
    asked = client.get(reverse("patients:handoff"), {"location": personas.location_b.pk}).content.decode()
    assert "Quinn rescheduled" not in asked
    assert "Select a valid choice" in asked
    b_view = client_for(personas.front_b).get(reverse("patients:handoff")).content.decode()
    assert "Quinn rescheduled" in b_view
    assert "Pat needs a ride" not in b_view


def test_handoff_hides_clinical_notes_from_front_desk_and_shows_them_to_clinicians(
    personas, client_for, notes
):
    assert (
        "Pat wound check"
        not in client_for(personas.front_a).get(reverse("patients:handoff")).content.decode()
    )
    assert (
        "Pat wound check"
        in client_for(personas.clinician_a).get(reverse("patients:handoff")).content.decode()
    )


def test_handoff_by_clinician_shows_their_patients_only(personas, client_for, notes):
    other = Patient.objects.create(
        mrn="MRN-OTHER", legal_first_name="Olive", legal_last_name="Other", date_of_birth=date(1990, 1, 1),
        primary_location=personas.location_a,
    )  # fmt: skip
    note_add(patient=other, kind=NoteKind.HANDOFF, text="Olive called", actor=Actor.staff(personas.front_a))
    client = client_for(personas.clinician_a)
    content = client.get(reverse("patients:handoff"), {"clinician": personas.clinician_a.pk}).content.decode()
    assert "Pat needs a ride" in content
    assert "Olive called" not in content
    everyone = client.get(reverse("patients:handoff"), {"location": personas.location_a.pk}).content.decode()
    assert "Olive called" in everyone


def test_handoff_records_one_view_per_patient_shown(personas, client_for, notes):
    note_add(
        patient=personas.pat,
        kind=NoteKind.OTHER,
        text="Second note for Pat",
        actor=Actor.staff(personas.front_a),
    )
    client_for(personas.admin).get(reverse("patients:handoff"), {"location": personas.location_a.pk})
    entries = AuditEntry.objects.filter(actor=personas.admin, action=AuditAction.VIEW)
    assert list(entries.values_list("patient_id", flat=True)) == [personas.pat.pk]
    assert "handoff" in entries.get().detail
    assert entries.get().actor_kind == "staff"


def test_bad_since_gives_a_message_not_an_error(personas, client_for, notes):
    response = client_for(personas.front_a).get(reverse("patients:handoff"), {"since": "yesterday-ish"})
    assert response.status_code == 200
    assert b"Enter a date and time" in response.content


def test_handoff_query_count_does_not_grow_with_the_number_of_notes(
    personas, client_for, django_assert_max_num_queries
):
    client = client_for(personas.clinician_a)
    url = reverse("patients:handoff")
    note_add(patient=personas.pat, kind=NoteKind.HANDOFF, text="warm-up", actor=Actor.staff(personas.front_a))
    client.get(url)  # the first request of a session writes its start time; measure a steady-state one
    # About 15 queries (session, user, roles, locations, notes, one amendment prefetch, one audit insert with,
    # on PostgreSQL, the audit chain's advisory lock, form choices, the navigation's Inbox badge, session
    # save); 30 notes with a query each would blow far past the bound.
    for index in range(30):
        patient = Patient.objects.create(
            mrn=f"MRN-H{index}", legal_first_name=f"P{index}", legal_last_name="Load", date_of_birth=date(1990, 1, 1),
            primary_location=personas.location_a, primary_clinician=personas.clinician_a,
        )  # fmt: skip
        note = note_add(
            patient=patient,
            kind=NoteKind.CLINICAL,
            text=f"note {index}",
            actor=Actor.staff(personas.clinician_a),
        )
        note_amend(note=note, text=f"amended {index}", reason="r", actor=Actor.staff(personas.clinician_a))
    with django_assert_max_num_queries(19):  # with the navigation's Care alerts badge
        response = client.get(url)
    assert response.content.decode().count("amended ") == 30
