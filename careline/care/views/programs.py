"""Care programs (administrators) and bulk enrolment (clinicians)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from careline.care.forms import BulkEnrolForm, ProgramForm, ProgramMeasureFormSet
from careline.care.models import CareProgram
from careline.care.services.enrolment import enrolment_create
from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.core.permissions import Perm, require_perm
from careline.patients.queries import patients_visible_to


@require_perm(Perm.CARE_PROGRAM_MANAGE)
@require_http_methods(["GET"])
def programs(request: HttpRequest) -> HttpResponse:
    """The care programs, their measures and how many patients are enrolled."""
    rows = list(CareProgram.objects.prefetch_related("measures"))
    audit_record(request=request, action=AuditAction.VIEW, object_type="care.careprogram", detail="list")
    return render(
        request, "care/programs.html", {"programs": rows, "nav": "admin", "admin_tab": "care_programs"}
    )


@require_perm(Perm.CARE_PROGRAM_MANAGE)
@require_http_methods(["GET", "POST"])
def program_edit(request: HttpRequest, program_pk: int) -> HttpResponse:
    """Change a program: schedule, instructions, escalation time and each measure's thresholds."""
    program = get_object_or_404(CareProgram, pk=program_pk)
    status = 200
    if request.method == "POST":
        form = ProgramForm(request.POST, instance=program)
        formset = ProgramMeasureFormSet(request.POST, instance=program)
        if form.is_valid() and formset.is_valid():
            with transaction.atomic():
                form.save()
                formset.save()
                audit_record(
                    request=request,
                    action=AuditAction.UPDATE,
                    obj=program,
                    detail=f"care program {program.code} changed",
                )
            messages.success(request, "Program saved. New readings are judged by the new thresholds.")
            return redirect("care:programs")
        status = 400
    else:
        form = ProgramForm(instance=program)
        formset = ProgramMeasureFormSet(instance=program)
    return render(
        request,
        "care/program_edit.html",
        {"program": program, "form": form, "formset": formset, "nav": "admin", "admin_tab": "care_programs"},
        status=status,
    )


@require_perm(Perm.CARE_MANAGE, Perm.PATIENT_VIEW)
@require_http_methods(["GET", "POST"])
def enrol_bulk(request: HttpRequest) -> HttpResponse:
    """Enrol many patients (by MRN, at the user's locations) in one program."""
    status = 200
    results: list[tuple[str, str]] = []
    if request.method == "POST":
        form = BulkEnrolForm(request.POST)
        if form.is_valid():
            actor = Actor.from_request(request)
            mrns = form.cleaned_data["mrns"]
            found = {
                p.mrn: p
                for p in patients_visible_to(request.user)
                .filter(mrn__in=mrns)
                .select_related("primary_location")
            }
            for mrn in mrns:
                patient = found.get(mrn)
                if patient is None:
                    results.append((mrn, "not found among your patients"))
                    continue
                try:
                    enrolment_create(
                        patient=patient,
                        program=form.cleaned_data["program"],
                        channel=form.cleaned_data["channel"],
                        actor=actor,
                    )
                except ValidationError as error:
                    results.append((mrn, " ".join(error.messages)))
                else:
                    results.append((mrn, "enrolled"))
            enrolled = sum(1 for _, outcome in results if outcome == "enrolled")
            messages.success(request, f"{enrolled} of {len(mrns)} patient(s) enrolled.")
        else:
            status = 400
    else:
        form = BulkEnrolForm()
    return render(
        request, "care/enrol_bulk.html", {"form": form, "results": results, "nav": "care"}, status=status
    )
