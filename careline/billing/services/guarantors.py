"""Standing guarantors: who pays a patient's bills (a parent for a child), from when, with the history kept.

A patient with a guarantor gets no statement of their own: the guarantor's statement combines the guarantor's
own items and every dependant's, each line labelled by patient, and goes by the guarantor's billing preference
and consent. One level only: a guarantor has no guarantor, and a dependant pays for nobody.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from careline.billing.models import GuarantorLink
from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.patients.models import Patient


def _current(today: date | None = None) -> Q:
    return Q(ends_on__isnull=True, starts_on__lte=today or timezone.localdate())


def guarantor_of(patient_id: int, *, today: date | None = None) -> Patient | None:
    """The guarantor who pays PATIENT_ID's bills today, or None (the patient pays)."""
    link = (
        GuarantorLink.objects.filter(_current(today), patient_id=patient_id)
        .select_related("guarantor__primary_location")
        .first()
    )
    return link.guarantor if link else None


def dependants_of(guarantor_id: int, *, today: date | None = None) -> list[int]:
    """The ids of the patients whose bills GUARANTOR_ID pays today, in id order."""
    return list(
        GuarantorLink.objects.filter(_current(today), guarantor_id=guarantor_id)
        .order_by("patient_id")
        .values_list("patient_id", flat=True)
    )


def statement_holder(patient: Patient) -> tuple[Patient, list[int]]:
    """(whose statement PATIENT's items go on, the ids of every patient that statement lists, holder first)."""
    holder = guarantor_of(patient.pk) or patient
    return holder, [holder.pk, *dependants_of(holder.pk)]


def guarantor_history(patient_id: int) -> list[GuarantorLink]:
    """PATIENT_ID's guarantor links, newest first."""
    return list(
        GuarantorLink.objects.filter(patient_id=patient_id)
        .select_related("guarantor", "created_by", "ended_by")
        .order_by("-starts_on", "-id")
    )


def _lock(*patient_ids: int) -> None:
    list(Patient.objects.select_for_update().filter(pk__in=sorted(patient_ids)).values_list("pk", flat=True))


def guarantor_set(
    *, patient: Patient, guarantor: Patient, starts_on: date, relationship: str, actor: Actor
) -> GuarantorLink:
    """From STARTS_ON, GUARANTOR pays PATIENT's bills (the open link, if any, ends that day; audited).

    Refused: the patient themself, a deceased guarantor, a guarantor who has a guarantor, a patient who pays
    for others, a start before the open link's start, or the same guarantor again."""
    relationship = (relationship or "").strip()
    if len(relationship) > 60:
        raise ValidationError({"relationship": "Keep the relationship under 60 characters."})
    if guarantor.pk == patient.pk:
        raise ValidationError({"guarantor": "The guarantor is someone other than the patient."})
    if guarantor.is_deceased:
        raise ValidationError({"guarantor": "A deceased patient cannot be a guarantor."})
    with transaction.atomic():
        _lock(patient.pk, guarantor.pk)
        if GuarantorLink.objects.filter(patient=guarantor, ends_on__isnull=True).exists():
            raise ValidationError(
                {"guarantor": "That patient's own bills are paid by a guarantor: choose that guarantor."}
            )
        if GuarantorLink.objects.filter(guarantor=patient, ends_on__isnull=True).exists():
            raise ValidationError(
                {"guarantor": "This patient is a guarantor for others: a guarantor pays their own bills."}
            )
        open_link = GuarantorLink.objects.filter(patient=patient, ends_on__isnull=True).first()
        if open_link is not None:
            if open_link.guarantor_id == guarantor.pk:
                raise ValidationError({"guarantor": "That patient is already the guarantor."})
            if starts_on < open_link.starts_on:
                raise ValidationError({"starts_on": "Start on or after the current guarantor's start date."})
            open_link.ends_on = starts_on
            open_link.ended_by = actor.user
            open_link.save(update_fields=["ends_on", "ended_by"])
        link = GuarantorLink.objects.create(
            patient=patient, guarantor=guarantor, relationship=relationship, starts_on=starts_on,
            created_at=timezone.now(), created_by=actor.user,
        )  # fmt: skip
        audit_record(
            actor=actor, action=AuditAction.CREATE, obj=link, patient_id=patient.pk,
            detail=f"guarantor from {starts_on.isoformat()}: patient {guarantor.pk}",
        )  # fmt: skip
    return link


def guarantor_end(*, patient: Patient, ends_on: date, actor: Actor) -> GuarantorLink:
    """PATIENT pays their own bills again from ENDS_ON (audited); ValidationError when no guarantor is open."""
    with transaction.atomic():
        _lock(patient.pk)
        link = GuarantorLink.objects.filter(patient=patient, ends_on__isnull=True).first()
        if link is None:
            raise ValidationError("This patient has no guarantor to end.")
        if ends_on < link.starts_on:
            raise ValidationError({"ends_on": "End on or after the guarantor's start date."})
        link.ends_on = ends_on
        link.ended_by = actor.user
        link.save(update_fields=["ends_on", "ended_by"])
        audit_record(
            actor=actor, action=AuditAction.UPDATE, obj=link, patient_id=patient.pk,
            detail=f"guarantor ended on {ends_on.isoformat()}",
        )  # fmt: skip
    return link
