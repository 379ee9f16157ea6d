"""Reading a patient's record for an Actor: who may, and the audit entry every read leaves."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from careline.core.actor import Actor, ActorKind
from careline.core.audit import AuditAction, audit_patient_access
from careline.core.permissions import Perm
from careline.patients.models import Caregiver, Patient
from careline.patients.queries import patient_for_user


def caregiver_actor(*, caregiver: Caregiver, request: HttpRequest | None = None) -> Actor:
    """CAREGIVER acting on behalf of their patient; PermissionDenied unless an active proxy."""
    if not (caregiver.is_active and caregiver.is_proxy):
        raise PermissionDenied("Only an active proxy may act for the patient.")
    return Actor.caregiver(caregiver.pk, patient_id=caregiver.patient_id, request=request)


def _may_act_for(actor: Actor, patient_id: int) -> bool:
    """Whether ACTOR, who is not staff, may read patient PATIENT_ID's record."""
    if actor.kind == ActorKind.SYSTEM:
        return True
    if actor.patient_id != patient_id:
        return False
    if actor.kind == ActorKind.PATIENT:
        return True
    # A caregiver's standing is read again at every read: a revoked proxy stops at once.
    return (
        actor.kind == ActorKind.CAREGIVER
        and actor.caregiver_id is not None
        and Caregiver.objects.filter(
            pk=actor.caregiver_id, patient_id=patient_id, is_active=True, is_proxy=True
        ).exists()
    )


def patient_read(*, actor: Actor, patient_id: int, detail: str, perm: str = Perm.PATIENT_VIEW) -> Patient:
    """Patient PATIENT_ID for ACTOR, the read audited with ACTOR as its actor.

    Staff and API clients read the patients of their locations with PERM (404 for no such patient, 403
    when not theirs); a patient reads only their own record, a caregiver only the record of the patient they
    act for while an active proxy (403 otherwise, before anything says whether the patient exists); the
    system reads any. A refused read writes nothing.
    """
    if actor.user is not None:
        patient = patient_for_user(actor.user, patient_id, perm)
    else:
        if not _may_act_for(actor, patient_id):
            raise PermissionDenied
        try:
            patient = Patient.objects.select_related("primary_location", "primary_clinician").get(
                pk=patient_id
            )
        except Patient.DoesNotExist:
            raise Http404("No such patient") from None
    audit_patient_access(
        actor=actor, action=AuditAction.VIEW, patient_id=patient.pk, obj=patient, detail=detail
    )
    return patient
