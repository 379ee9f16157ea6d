"""Record entries are never edited in place: each amendment keeps the earlier version, with who and why."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from careline.core.actor import Actor
from careline.core.models import AuditAction, AuditEntry
from careline.records.models import Medication, RecordRevision, VisitSummary
from careline.records.queries import entry_history, record_counts, records_for_patient
from careline.records.services.entries import record_add, record_amend
from careline.records.tests.support import allergy_for

pytestmark = pytest.mark.django_db


def test_an_entry_is_kept_as_entered_and_each_amendment_adds_a_version(personas):
    allergy = allergy_for(personas.pat, personas.clinician_a)
    amended = record_amend(
        entry=allergy,
        values={"severity": "severe", "reaction": "Anaphylaxis"},
        reason="New information from the ER",
        actor=Actor.staff(personas.admin),
    )
    assert (amended.version, amended.severity, amended.reaction) == (2, "severe", "Anaphylaxis")
    history = entry_history(amended)
    assert [r.version for r in history] == [1, 2]
    assert history[0].values["severity"] == "moderate" and history[0].reason == ""
    assert history[0].author == personas.clinician_a
    assert history[1].values["reaction"] == "Anaphylaxis"
    assert history[1].reason == "New information from the ER" and history[1].author == personas.admin


def test_an_entry_cannot_be_saved_in_place(personas):
    allergy = allergy_for(personas.pat, personas.clinician_a)
    allergy.substance = "Sulfa"
    with pytest.raises(ValueError, match="never edited in place"):
        allergy.save()


def test_an_amendment_needs_a_reason_and_a_change(personas):
    allergy = allergy_for(personas.pat, personas.clinician_a)
    actor = Actor.staff(personas.clinician_a)
    with pytest.raises(ValidationError, match="why"):
        record_amend(entry=allergy, values={"severity": "severe"}, reason=" ", actor=actor)
    with pytest.raises(ValidationError, match="Nothing changed"):
        record_amend(entry=allergy, values={"severity": "moderate"}, reason="check", actor=actor)
    assert RecordRevision.objects.filter(entry_id=allergy.pk, entry_type="records.allergy").count() == 1


def test_a_medication_cannot_end_before_it_starts(personas):
    with pytest.raises(ValidationError) as error:
        record_add(
            model=Medication,
            patient=personas.pat,
            values={"name": "Metformin", "start_date": date(2030, 5, 1), "end_date": date(2030, 4, 1)},
            actor=Actor.staff(personas.clinician_a),
        )
    assert "end_date" in error.value.error_dict
    assert not Medication.objects.exists()


def test_a_visit_summary_links_only_the_patients_own_visit(personas):
    from careline.scheduling.tests.appointment_support import at_a, book, make_schedule

    appointment = book(make_schedule(personas), at_a(personas, date(2031, 1, 6), 10))
    values = {"visit_date": date(2031, 1, 6), "summary": "Keep walking daily.", "appointment": appointment}
    with pytest.raises(ValidationError):
        record_add(
            model=VisitSummary, patient=personas.quinn, values=values, actor=Actor.staff(personas.admin)
        )
    summary = record_add(
        model=VisitSummary, patient=personas.pat, values=values, actor=Actor.staff(personas.clinician_a)
    )
    assert summary.appointment == appointment


def test_adding_and_amending_are_audited_without_the_clinical_text(personas):
    allergy = allergy_for(personas.pat, personas.clinician_a)
    record_amend(
        entry=allergy,
        values={"status": "resolved"},
        reason="Outgrown",
        actor=Actor.staff(personas.clinician_a),
    )
    entries = AuditEntry.objects.filter(object_type="records.allergy", object_id=str(allergy.pk))
    assert sorted(entries.values_list("action", flat=True)) == sorted(
        [AuditAction.CREATE, AuditAction.UPDATE]
    )
    assert all(e.patient_id == personas.pat.pk for e in entries)
    assert not any("Penicillin" in e.detail or "Outgrown" in e.detail for e in entries)


def test_entries_in_error_are_left_out_of_the_patients_record_and_counts(personas):
    kept = allergy_for(personas.pat, personas.clinician_a)
    wrong = allergy_for(personas.pat, personas.clinician_a, substance="Latex")
    record_amend(
        entry=wrong,
        values={"status": "entered_in_error"},
        reason="Wrong patient",
        actor=Actor.staff(personas.admin),
    )
    assert records_for_patient(personas.pat).allergies == [kept]
    assert len(records_for_patient(personas.pat, with_errors=True).allergies) == 2
    assert record_counts(personas.pat)["allergies"] == 1
    assert record_counts(personas.quinn)["allergies"] == 0
