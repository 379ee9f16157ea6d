"""Care notes are never edited in place: amendments keep the original and say who, when and why."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from careline.core.actor import Actor
from careline.core.models import AuditAction, AuditEntry
from careline.patients.models import CareNote, NoteKind
from careline.patients.queries.notes import active_alerts, note_current_text, notes_visible_to
from careline.patients.services.notes import alert_add, alert_remove, note_add, note_amend

pytestmark = pytest.mark.django_db


def test_a_note_is_filed_under_the_patients_primary_location(personas):
    note = note_add(
        patient=personas.quinn,
        kind=NoteKind.OTHER,
        text="  Left a message  ",
        actor=Actor.staff(personas.admin),
    )
    assert note.location == personas.location_b
    assert note.text == "Left a message"


def test_care_note_save_refuses_a_change_of_text(personas):
    note = note_add(
        patient=personas.pat, kind=NoteKind.HANDOFF, text="Original", actor=Actor.staff(personas.front_a)
    )
    note.text = "Rewritten"
    with pytest.raises(ValueError, match="never edited in place"):
        note.save()
    assert CareNote.objects.get(pk=note.pk).text == "Original"


def test_amending_keeps_the_original_and_records_who_when_and_why(personas, client_for):
    with time_machine.travel(datetime(2025, 3, 3, 14, 0, tzinfo=UTC), tick=False):
        note = note_add(
            patient=personas.pat,
            kind=NoteKind.HANDOFF,
            text="Pick up at 3",
            actor=Actor.staff(personas.front_a),
        )
    client = client_for(personas.clinician_a)
    url = reverse("patients:note_amend", args=[personas.pat.pk, note.pk])
    with time_machine.travel(datetime(2025, 3, 3, 15, 30, tzinfo=UTC), tick=False):
        response = client.post(url, {"text": "Pick up at 4", "reason": "Family called back"})
        page = client.get(reverse("patients:note_detail", args=[personas.pat.pk, note.pk])).content.decode()
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.text == "Pick up at 3"
    amendment = note.amendments.get()
    assert (amendment.text, amendment.reason, amendment.author) == (
        "Pick up at 4",
        "Family called back",
        personas.clinician_a,
    )
    assert amendment.created_at == datetime(2025, 3, 3, 15, 30, tzinfo=UTC)
    assert note_current_text(note) == "Pick up at 4"
    assert AuditEntry.objects.filter(
        action=AuditAction.UPDATE, patient_id=personas.pat.pk, object_id=str(note.pk)
    ).exists()

    # Northside is in Chicago: 15:30 UTC is 09:30 local (CST).
    assert "Pick up at 3" in page
    assert "Pick up at 4" in page
    assert "Family called back" in page
    assert "Casey Clinician" in page
    assert "09:30" in page


def test_the_latest_amendment_is_the_current_text_in_lists_without_a_query_per_note(
    personas, django_assert_num_queries
):
    notes = [
        note_add(patient=personas.pat, kind=NoteKind.OTHER, text=f"v0 {i}", actor=Actor.staff(personas.admin))
        for i in range(4)
    ]
    for version in (1, 2):
        for note in notes:
            note_amend(
                note=note, text=f"v{version} {note.pk}", reason="update", actor=Actor.staff(personas.admin)
            )
    personas.admin.role_codes  # noqa: B018 - warm the cached roles, not part of what is measured
    with django_assert_num_queries(2):
        listed = list(notes_visible_to(personas.admin, personas.pat))
        texts = {note.pk: note_current_text(note) for note in listed}
    assert texts == {note.pk: f"v2 {note.pk}" for note in notes}


def test_amending_with_the_same_text_or_no_reason_is_refused(personas):
    note = note_add(patient=personas.pat, kind=NoteKind.OTHER, text="Same", actor=Actor.staff(personas.admin))
    with pytest.raises(ValidationError):
        note_amend(note=note, text="Same", reason="why", actor=Actor.staff(personas.admin))
    with pytest.raises(ValidationError):
        note_amend(note=note, text="Other", reason=" ", actor=Actor.staff(personas.admin))
    assert not note.amendments.exists()


def test_removing_an_alert_keeps_it_with_who_and_when(personas):
    alert = alert_add(
        patient=personas.pat, kind="interpreter", text="Needs Spanish", actor=Actor.staff(personas.front_a)
    )
    assert active_alerts(personas.pat) == [alert]
    with time_machine.travel(datetime(2025, 5, 1, 12, 0, tzinfo=UTC), tick=False):
        alert_remove(alert=alert, actor=Actor.staff(personas.clinician_a))
    alert.refresh_from_db()
    assert alert.removed_by == personas.clinician_a
    assert alert.removed_at == datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
    assert active_alerts(personas.pat) == []
    assert personas.pat.alerts.count() == 1


def test_pinned_alerts_show_in_the_banner_of_the_notes_pages(personas, client_for):
    alert_add(patient=personas.pat, kind="allergy", text="Latex", actor=Actor.staff(personas.front_a))
    content = (
        client_for(personas.front_a).get(reverse("patients:notes", args=[personas.pat.pk])).content.decode()
    )
    assert 'class="patient-banner"' in content
    assert "Latex" in content


def test_the_patient_page_panel_adds_a_note_with_htmx_and_re_renders_only_the_panel(personas, client_for):
    client = client_for(personas.front_a)
    response = client.post(
        reverse("patients:note_create", args=[personas.pat.pk]),
        {"kind": "communication", "text": "Prefers mornings"},
        headers={"HX-Request": "true"},
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert 'id="notes-panel"' in content
    assert "Prefers mornings" in content
    assert "<html" not in content
    assert CareNote.objects.filter(text="Prefers mornings", author=personas.front_a).exists()
    assert AuditEntry.objects.filter(action=AuditAction.CREATE, patient_id=personas.pat.pk).exists()


def test_the_panel_shows_the_error_and_keeps_the_text_when_a_note_is_refused(personas, client_for):
    response = client_for(personas.billing_a).post(
        reverse("patients:note_create", args=[personas.pat.pk]),
        {"kind": "clinical", "text": "Not allowed to file this"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert b'role="alert"' in response.content
    assert b"Not allowed to file this" in response.content
    assert not CareNote.objects.exists()


def test_the_patient_page_includes_the_notes_panel_with_the_current_text(personas, client_for):
    note = note_add(
        patient=personas.pat, kind=NoteKind.HANDOFF, text="Old words", actor=Actor.staff(personas.front_a)
    )
    note_amend(note=note, text="New words", reason="fix", actor=Actor.staff(personas.front_a))
    content = (
        client_for(personas.front_a).get(reverse("patients:detail", args=[personas.pat.pk])).content.decode()
    )
    assert 'id="notes-panel"' in content
    assert "New words" in content
    assert "Old words" not in content
