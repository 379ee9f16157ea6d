"""Who may open and post to each care-note and alert page: every persona and an outsider."""

from __future__ import annotations

import pytest
from django.urls import reverse

from careline.core.actor import Actor
from careline.core.models import AuditAction, AuditEntry
from careline.patients.models import CareNote, NoteAmendment, NoteKind, PatientAlert
from careline.patients.services.notes import alert_add, note_add

pytestmark = pytest.mark.django_db

PERSONAS = ["admin", "front_a", "clinician_a", "billing_a", "front_b"]
# Every persona but front_b (location B) may read and add notes about Pat (location A).
ALLOWED = {"admin": True, "front_a": True, "clinician_a": True, "billing_a": True, "front_b": False}


@pytest.fixture
def handoff_note(personas):
    return note_add(
        patient=personas.pat,
        kind=NoteKind.HANDOFF,
        text="Called about refill",
        actor=Actor.staff(personas.front_a),
    )


@pytest.fixture
def clinical_note(personas):
    return note_add(
        patient=personas.pat,
        kind=NoteKind.CLINICAL,
        text="BP 150/95, recheck",
        actor=Actor.staff(personas.clinician_a),
    )


@pytest.fixture
def alert(personas):
    return alert_add(
        patient=personas.pat, kind="allergy", text="Penicillin", actor=Actor.staff(personas.front_a)
    )


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_reads_notes_pages_only_for_their_locations_patients(
    personas, client_for, handoff_note, persona
):
    client = client_for(getattr(personas, persona))
    pat = personas.pat.pk
    expected = 200 if ALLOWED[persona] else 403
    for url in [
        reverse("patients:notes", args=[pat]),
        reverse("patients:note_detail", args=[pat, handoff_note.pk]),
        reverse("patients:note_amend", args=[pat, handoff_note.pk]),
        reverse("patients:alert_create", args=[pat]),
    ]:
        assert client.get(url).status_code == expected, (persona, url)


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_adds_notes_and_alerts_only_for_their_locations_patients(
    personas, client_for, handoff_note, alert, persona
):
    client = client_for(getattr(personas, persona))
    pat = personas.pat
    expected = 302 if ALLOWED[persona] else 403
    add = client.post(reverse("patients:note_create", args=[pat.pk]), {"kind": "handoff", "text": "New note"})
    amend = client.post(
        reverse("patients:note_amend", args=[pat.pk, handoff_note.pk]),
        {"text": "Corrected", "reason": "typo"},
    )
    pin = client.post(
        reverse("patients:alert_create", args=[pat.pk]), {"kind": "interpreter", "text": "Spanish"}
    )
    unpin = client.post(reverse("patients:alert_remove", args=[pat.pk, alert.pk]))
    assert [add.status_code, amend.status_code, pin.status_code, unpin.status_code] == [expected] * 4
    assert CareNote.objects.filter(text="New note").exists() is ALLOWED[persona]
    assert NoteAmendment.objects.filter(note=handoff_note).exists() is ALLOWED[persona]
    assert PatientAlert.objects.filter(text="Spanish").exists() is ALLOWED[persona]
    alert.refresh_from_db()
    assert (alert.removed_at is not None) is ALLOWED[persona]


def test_outsider_is_sent_to_sign_in_from_every_notes_page_and_changes_nothing(
    personas, client_for, handoff_note, alert
):
    client = client_for(None)
    pat = personas.pat.pk
    urls = [
        reverse("patients:notes", args=[pat]),
        reverse("patients:note_create", args=[pat]),
        reverse("patients:note_detail", args=[pat, handoff_note.pk]),
        reverse("patients:note_amend", args=[pat, handoff_note.pk]),
        reverse("patients:alert_create", args=[pat]),
        reverse("patients:alert_remove", args=[pat, alert.pk]),
    ]
    for url in urls:
        for response in (client.get(url), client.post(url, {"kind": "other", "text": "x", "reason": "y"})):
            assert response.status_code == 302, url
            assert reverse("accounts:login") in response["Location"]
    assert CareNote.objects.count() == 1
    assert not NoteAmendment.objects.exists()
    alert.refresh_from_db()
    assert alert.is_active


def test_front_desk_b_sees_no_note_of_a_patient_of_location_a_even_by_id(personas, client_for, handoff_note):
    response = client_for(personas.front_b).get(
        reverse("patients:note_detail", args=[personas.pat.pk, handoff_note.pk])
    )
    assert response.status_code == 403
    assert b"Called about refill" not in response.content


def test_a_note_is_only_reachable_under_its_own_patient(personas, client_for, handoff_note):
    client = client_for(personas.admin)
    url = reverse("patients:note_detail", args=[personas.quinn.pk, handoff_note.pk])
    assert client.get(url).status_code == 404
    assert client.get(reverse("patients:notes", args=[999999])).status_code == 404


@pytest.mark.parametrize("persona", ["front_a", "billing_a"])
def test_clinical_notes_are_hidden_from_billing_and_front_desk(personas, client_for, clinical_note, persona):
    client = client_for(getattr(personas, persona))
    pat = personas.pat.pk
    page = client.get(reverse("patients:notes", args=[pat]))
    assert page.status_code == 200
    assert b"BP 150/95" not in page.content
    assert b'value="clinical"' not in page.content  # and they cannot file one
    assert client.get(reverse("patients:note_detail", args=[pat, clinical_note.pk])).status_code == 404
    amend = client.post(
        reverse("patients:note_amend", args=[pat, clinical_note.pk]), {"text": "x", "reason": "y"}
    )
    assert amend.status_code == 404
    added = client.post(reverse("patients:note_create", args=[pat]), {"kind": "clinical", "text": "Sneaky"})
    assert added.status_code == 400
    assert not CareNote.objects.filter(text="Sneaky").exists()
    detail = client.get(reverse("patients:detail", args=[pat]))
    assert b"BP 150/95" not in detail.content


@pytest.mark.parametrize("persona", ["admin", "clinician_a"])
def test_clinical_notes_are_shown_to_clinicians_and_administrators(
    personas, client_for, clinical_note, persona
):
    client = client_for(getattr(personas, persona))
    pat = personas.pat.pk
    assert b"BP 150/95" in client.get(reverse("patients:notes", args=[pat])).content
    assert client.get(reverse("patients:note_detail", args=[pat, clinical_note.pk])).status_code == 200


def test_reading_notes_is_audited_as_a_view_of_the_patient(personas, client_for, handoff_note):
    client = client_for(personas.front_a)
    pat = personas.pat.pk
    client.get(reverse("patients:notes", args=[pat]))
    client.get(reverse("patients:note_detail", args=[pat, handoff_note.pk]))
    views = AuditEntry.objects.filter(actor=personas.front_a, action=AuditAction.VIEW, patient_id=pat)
    assert views.count() == 2
    assert all("refill" not in entry.detail for entry in views)  # never the note's text


def test_bad_input_shows_a_message_and_changes_nothing(personas, client_for, handoff_note):
    client = client_for(personas.front_a)
    pat = personas.pat.pk
    empty = client.post(reverse("patients:note_create", args=[pat]), {"kind": "handoff", "text": "   "})
    assert empty.status_code == 400
    assert b'role="alert"' in empty.content
    bad_kind = client.post(reverse("patients:note_create", args=[pat]), {"kind": "gossip", "text": "x"})
    assert bad_kind.status_code == 400
    same = client.post(
        reverse("patients:note_amend", args=[pat, handoff_note.pk]),
        {"text": "Called about refill", "reason": "x"},
    )
    assert same.status_code == 400
    assert b"unchanged" in same.content
    no_reason = client.post(
        reverse("patients:note_amend", args=[pat, handoff_note.pk]), {"text": "New", "reason": ""}
    )
    assert no_reason.status_code == 400
    long_alert = client.post(
        reverse("patients:alert_create", args=[pat]), {"kind": "other", "text": "x" * 300}
    )
    assert long_alert.status_code == 400
    assert CareNote.objects.count() == 1
    assert not NoteAmendment.objects.exists()
    assert not PatientAlert.objects.exists()


def test_removing_an_alert_twice_says_so_and_keeps_the_first_removal(personas, client_for, alert):
    client = client_for(personas.front_a)
    url = reverse("patients:alert_remove", args=[personas.pat.pk, alert.pk])
    client.post(url)
    alert.refresh_from_db()
    first = alert.removed_at
    response = client.post(url, follow=True)
    assert b"already removed" in response.content
    alert.refresh_from_db()
    assert alert.removed_at == first
    assert alert.removed_by == personas.front_a


def test_an_alert_of_another_patient_cannot_be_removed_through_this_patient(personas, client_for):
    other = alert_add(patient=personas.quinn, kind="other", text="Quinn's", actor=Actor.staff(personas.admin))
    response = client_for(personas.admin).post(
        reverse("patients:alert_remove", args=[personas.pat.pk, other.pk])
    )
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.is_active
