"""Staff pages of referrals: the worklist of stalled referrals, referring a patient, a referral and its history."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_patient_access, audit_record
from careline.core.params import row_id
from careline.core.permissions import Perm, has_perm, require_perm
from careline.locations.models import Location
from careline.patients.queries import patient_for_user
from careline.referrals.forms import ReferForm, StateForm
from careline.referrals.models import Referral
from careline.referrals.queries import referrals_visible_to, worklist_referrals
from careline.referrals.services.referrals import provider_contact_lines, referral_create, referral_set_state


def _referral_for(request: HttpRequest, referral_pk: int) -> Referral:
    """Referral REFERRAL_PK if the user may see it (their locations): 404 unknown, 403 not theirs."""
    referral = (
        Referral.objects.select_related("patient__primary_location", "provider", "location", "referred_by")
        .filter(pk=referral_pk)
        .first()
    )
    if referral is None:
        raise Http404("No such referral")
    if not referrals_visible_to(request.user).filter(pk=referral_pk).exists():
        raise PermissionDenied
    return referral


def _locations(user: Any) -> list[Location]:
    if has_perm(user, Perm.PATIENT_VIEW_ALL_LOCATIONS):
        return list(Location.objects.order_by("name"))
    return list(Location.objects.filter(pk__in=list(user.location_ids)).order_by("name"))


@require_perm(Perm.REFERRAL_VIEW)
@require_GET
def worklist(request: HttpRequest) -> HttpResponse:
    """Open referrals with no change in CARELINE_REFERRAL_STALLED_DAYS (or whose patient asked for help)."""
    from django.conf import settings

    locations = _locations(request.user)
    location_id = row_id(request.GET.get("location"))
    if location_id is not None and location_id not in {location.pk for location in locations}:
        location_id = None  # not one of theirs: every location of theirs, as with no filter
    rows = worklist_referrals(request.user, location_id=location_id)
    audit_record(
        request=request,
        action=AuditAction.VIEW,
        object_type="referrals.referral",
        detail=f"referrals worklist: {len(rows)} referral(s), patients "
        f"{','.join(sorted({str(r.patient_id) for r in rows}))}"[:500],
    )
    context = {
        "rows": rows,
        "locations": locations,
        "location_id": location_id,
        "stalled_days": settings.CARELINE_REFERRAL_STALLED_DAYS,
        "may_manage_directory": has_perm(request.user, Perm.REFERRAL_DIRECTORY_MANAGE),
        "nav": "referrals",
    }
    return render(request, "referrals/worklist.html", context)


@require_perm(Perm.REFERRAL_CREATE)
@require_http_methods(["GET", "POST"])
def refer(request: HttpRequest, pk: int) -> HttpResponse:
    """Refer the patient to a provider of the directory, with their consent; the reason stays staff-only."""
    patient = patient_for_user(request.user, pk, Perm.REFERRAL_CREATE)
    status = 200
    if request.method == "POST":
        form = ReferForm(request.POST)
        if form.is_valid():
            try:
                referral = referral_create(
                    patient=patient,
                    provider=form.cleaned_data["provider"],
                    reason=form.cleaned_data["reason"],
                    consent_given=form.cleaned_data["consent_given"],
                    actor=Actor.from_request(request),
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request, f"Referred to {referral.provider.name}; the patient is sent their details."
                )
                return redirect("referrals:detail", referral.pk)
        status = 400
    else:
        initial = {"provider": row_id(request.GET.get("provider"))} if request.GET.get("provider") else {}
        form = ReferForm(initial=initial)
    audit_patient_access(
        request=request, action=AuditAction.VIEW, patient_id=patient.pk, obj=patient, detail="referral form"
    )
    return render(
        request, "referrals/refer.html", {"patient": patient, "form": form, "nav": "patients"}, status=status
    )


def _detail_context(request: HttpRequest, referral: Referral, form: StateForm) -> dict[str, Any]:
    return {
        "referral": referral,
        "patient": referral.patient,
        "events": list(referral.events.select_related("by")),
        "form": form,
        "may_read_reason": has_perm(request.user, Perm.REFERRAL_CREATE),
        "contact": provider_contact_lines(referral.provider, "en"),
        "nav": "referrals",
    }


@require_perm(Perm.REFERRAL_VIEW)
@require_GET
def detail(request: HttpRequest, referral_pk: int) -> HttpResponse:
    """A referral: the provider, its state and history, and (for clinicians) the reason."""
    referral = _referral_for(request, referral_pk)
    shows_reason = has_perm(request.user, Perm.REFERRAL_CREATE)
    audit_patient_access(
        request=request,
        action=AuditAction.VIEW,
        patient_id=referral.patient_id,
        obj=referral,
        detail="referral and history" + (" with reason" if shows_reason else ""),
    )
    form = StateForm(choices=referral.next_states())
    return render(request, "referrals/detail.html", _detail_context(request, referral, form))


@require_perm(Perm.REFERRAL_VIEW)
@require_POST
def state_change(request: HttpRequest, referral_pk: int) -> HttpResponse:
    """Record the referral's progress (acknowledged, scheduled, seen, closed, declined) with a note."""
    referral = _referral_for(request, referral_pk)
    form = StateForm(request.POST, choices=referral.next_states())
    if form.is_valid():
        try:
            changed = referral_set_state(
                referral=referral,
                state=form.cleaned_data["state"],
                note=form.cleaned_data["note"],
                actor=Actor.from_request(request),
            )
        except ValidationError as error:
            form.add_error("state", error)
        else:
            if changed:
                messages.success(request, f"The referral is now {referral.get_state_display().lower()}.")
            else:
                messages.info(request, "The referral was already in that state.")
            return redirect("referrals:detail", referral.pk)
    audit_patient_access(
        request=request, action=AuditAction.VIEW, patient_id=referral.patient_id, obj=referral,
        detail="referral state change refused",
    )  # fmt: skip
    return render(request, "referrals/detail.html", _detail_context(request, referral, form), status=400)
