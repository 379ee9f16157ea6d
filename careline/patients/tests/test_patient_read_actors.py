"""Reading a patient's record through the service: who may, and the audit entry names who read it."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from careline.core.actor import Actor
from careline.core.audit_chain import audit_chain_verify
from careline.core.models import AuditEntry
from careline.patients.services.access import caregiver_actor, patient_read

pytestmark = pytest.mark.django_db


@pytest.fixture
def proxy(personas):
    caregiver = personas.pat_caregiver
    caregiver.is_proxy = True
    caregiver.save(update_fields=["is_proxy"])
    return caregiver


def test_a_caregiver_read_is_recorded_as_the_caregiver_on_behalf_of_the_patient(personas, proxy):
    patient = patient_read(
        actor=caregiver_actor(caregiver=proxy), patient_id=personas.pat.pk, detail="portal"
    )
    assert patient == personas.pat
    entry = AuditEntry.objects.get(detail="portal")
    assert (entry.actor_kind, entry.caregiver_id, entry.on_behalf_of_id) == (
        "caregiver",
        proxy.pk,
        personas.pat.pk,
    )
    assert (entry.actor_id, entry.patient_id, entry.action) == (None, personas.pat.pk, "view")
    assert entry.actor_label == f"caregiver #{proxy.pk} for patient #{personas.pat.pk}"
    assert audit_chain_verify().intact


def test_a_staff_read_of_the_same_record_is_told_apart(personas, proxy):
    patient_read(actor=caregiver_actor(caregiver=proxy), patient_id=personas.pat.pk, detail="portal")
    patient_read(actor=Actor.staff(personas.front_a), patient_id=personas.pat.pk, detail="portal")
    kinds = sorted(AuditEntry.objects.filter(detail="portal").values_list("actor_kind", flat=True))
    assert kinds == ["caregiver", "staff"]


def test_a_caregiver_who_is_not_a_proxy_does_not_act_for_the_patient(personas):
    with pytest.raises(PermissionDenied):
        caregiver_actor(caregiver=personas.pat_caregiver)


def test_a_revoked_proxy_reads_no_more(personas, proxy):
    actor = caregiver_actor(caregiver=proxy)
    proxy.is_active = False
    proxy.save(update_fields=["is_active"])  # revoked after the actor was built: the next read is refused
    with pytest.raises(PermissionDenied):
        patient_read(actor=actor, patient_id=personas.pat.pk, detail="portal")
    assert not AuditEntry.objects.filter(detail="portal").exists()


def test_a_caregiver_or_patient_reads_no_other_record(personas, proxy):
    for actor in (caregiver_actor(caregiver=proxy), Actor.patient(personas.pat.pk)):
        for other in (personas.quinn.pk, 999_999):
            with pytest.raises(PermissionDenied):
                patient_read(actor=actor, patient_id=other, detail="portal")
    assert not AuditEntry.objects.filter(detail="portal").exists()


def test_a_patient_reads_their_own_record(personas):
    patient_read(actor=Actor.patient(personas.pat.pk), patient_id=personas.pat.pk, detail="portal")
    entry = AuditEntry.objects.get(detail="portal")
    assert (entry.actor_kind, entry.on_behalf_of_id, entry.patient_id) == (
        "patient",
        personas.pat.pk,
        personas.pat.pk,
    )


def test_staff_keep_their_location_scoping(personas):
    with pytest.raises(PermissionDenied):
        patient_read(actor=Actor.staff(personas.front_b), patient_id=personas.pat.pk, detail="portal")
    with pytest.raises(Http404):
        patient_read(actor=Actor.staff(personas.front_a), patient_id=999_999, detail="portal")
    assert not AuditEntry.objects.filter(detail="portal").exists()
