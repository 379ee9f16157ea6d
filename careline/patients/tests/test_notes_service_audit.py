"""Writing notes and alerts is audited by the services themselves, whoever calls them."""

import pytest
from django.core.exceptions import ValidationError

from careline.core.actor import Actor
from careline.core.models import AuditAction, AuditEntry
from careline.patients.models import AlertKind, NoteKind
from careline.patients.services.notes import alert_add, alert_remove, note_add, note_amend

pytestmark = pytest.mark.django_db


def _entries(personas, action):
    return AuditEntry.objects.filter(actor=personas.clinician_a, action=action, patient_id=personas.pat.pk)


def test_note_and_alert_writes_are_audited_without_clinical_text(personas):
    note = note_add(
        patient=personas.pat,
        kind=NoteKind.CLINICAL,
        text="BP 150/95",
        actor=Actor.staff(personas.clinician_a),
    )
    note_amend(note=note, text="BP 150/90", reason="typo", actor=Actor.staff(personas.clinician_a))
    alert = alert_add(
        patient=personas.pat,
        kind=AlertKind.ALLERGY,
        text="Penicillin",
        actor=Actor.staff(personas.clinician_a),
    )
    alert_remove(alert=alert, actor=Actor.staff(personas.clinician_a))
    assert _entries(personas, AuditAction.CREATE).count() == 2
    assert _entries(personas, AuditAction.UPDATE).count() == 2
    details = " ".join(AuditEntry.objects.values_list("detail", flat=True))
    assert "150" not in details
    assert "Penicillin" not in details


def test_a_refused_note_writes_no_audit_entry(personas):
    with pytest.raises(ValidationError):
        note_add(patient=personas.pat, kind="gossip", text="x", actor=Actor.staff(personas.clinician_a))
    assert not _entries(personas, AuditAction.CREATE).exists()
