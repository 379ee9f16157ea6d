"""Reads shared by views and the API. Every patient read starts from `patients_visible_to`."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404

from careline.core.permissions import Perm, has_perm
from careline.patients.models import Caregiver, NoteKind, Patient


def patients_visible_to(user: Any) -> Any:
    """The patients USER may see: every location's with PATIENT_VIEW_ALL_LOCATIONS, else their locations'."""
    if not has_perm(user, Perm.PATIENT_VIEW):
        return Patient.objects.none()
    if has_perm(user, Perm.PATIENT_VIEW_ALL_LOCATIONS):
        return Patient.objects.all()
    return Patient.objects.filter(primary_location_id__in=user.location_ids)


def visible_patient_condition(user: Any, field: str = "patient") -> Q:
    """The rule of `patients_visible_to` as a condition on the patient in FIELD of another model's rows (a
    join on the rows' own patient, not a semi-join over every visible patient)."""
    if not has_perm(user, Perm.PATIENT_VIEW):
        return Q(pk__in=[])
    if has_perm(user, Perm.PATIENT_VIEW_ALL_LOCATIONS):
        return Q(**{f"{field}__isnull": False})
    return Q(**{f"{field}__primary_location_id__in": list(user.location_ids)})


def patient_names(ids: set[int]) -> dict[int, str]:
    """{patient id: name as staff call them ('Pat Ortega')} for the audit trail page."""
    rows = Patient.objects.filter(pk__in=ids).values_list(
        "pk", "preferred_name", "legal_first_name", "legal_last_name"
    )
    return {pk: f"{preferred or first} {last}" for pk, preferred, first, last in rows}


def caregiver_names(ids: set[int]) -> dict[int, str]:
    """{caregiver id: name} for the audit trail page."""
    return dict(Caregiver.objects.filter(pk__in=ids).values_list("pk", "name"))


def patient_for_user(user: Any, pk: int, perm: str = Perm.PATIENT_VIEW) -> Patient:
    """Patient PK if USER holds PERM and may see them: 404 when there is no such patient, 403 when not theirs."""
    try:
        patient = Patient.objects.select_related("primary_location", "primary_clinician").get(pk=pk)
    except Patient.DoesNotExist:
        raise Http404("No such patient") from None
    if not has_perm(user, perm) or not patients_visible_to(user).filter(pk=pk).exists():
        raise PermissionDenied
    return patient


def note_kinds_visible_to(user: Any) -> list[str]:
    """The kinds of care note USER may read: clinical notes only with NOTE_VIEW_CLINICAL."""
    if not has_perm(user, Perm.NOTE_VIEW):
        return []
    kinds = list(NoteKind.values)
    if not has_perm(user, Perm.NOTE_VIEW_CLINICAL):
        kinds.remove(NoteKind.CLINICAL)
    return kinds
