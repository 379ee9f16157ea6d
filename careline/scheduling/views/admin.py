"""Scheduling administration (SCHEDULE_MANAGE): appointment types, clinicians' working hours and time off."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from careline.accounts.models import User
from careline.core.audit import AuditAction, audit_record
from careline.core.permissions import Perm, require_perm
from careline.scheduling.forms.appointments import (
    AppointmentTypeForm,
    TimeOffForm,
    WorkingHoursForm,
    clinician_choices,
)
from careline.scheduling.models import AppointmentType, TimeOff, WorkingHours


def _admin(request: HttpRequest, template: str, status: int = 200, **context: object) -> HttpResponse:
    return render(request, template, {"nav": "admin", **context}, status=status)


@require_perm(Perm.SCHEDULE_MANAGE)
@require_http_methods(["GET"])
def type_list(request: HttpRequest) -> HttpResponse:
    """Every appointment type with its duration, locations and clinicians."""
    types = AppointmentType.objects.prefetch_related("locations", "clinicians")
    return _admin(request, "scheduling/type_list.html", types=types, admin_tab="types")


@require_perm(Perm.SCHEDULE_MANAGE)
@require_http_methods(["GET", "POST"])
def type_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create (no PK) or change an appointment type."""
    instance = get_object_or_404(AppointmentType, pk=pk) if pk is not None else None
    form = AppointmentTypeForm(request.POST or None, instance=instance)
    if request.method == "POST":
        if form.is_valid():
            saved = form.save()
            audit_record(request=request, action=AuditAction.ADMIN, obj=saved,
                         detail=f"appointment type {'changed' if instance else 'created'}: {', '.join(form.changed_data)}")  # fmt: skip
            messages.success(request, f"Saved “{saved.name}”.")
            return redirect("scheduling:type_list")
        return _admin(request, "scheduling/type_form.html", 400, form=form, item=instance, admin_tab="types")
    return _admin(request, "scheduling/type_form.html", form=form, item=instance, admin_tab="types")


@require_perm(Perm.SCHEDULE_MANAGE)
@require_http_methods(["GET"])
def hours_list(request: HttpRequest) -> HttpResponse:
    """Clinicians, each linking to their working hours and time off."""
    return _admin(request, "scheduling/hours_list.html", clinicians=clinician_choices(), admin_tab="hours")


def _clinician(pk: int) -> User:
    clinician = clinician_choices().filter(pk=pk).first()
    if clinician is None:
        raise Http404("No such clinician")
    return clinician


@require_perm(Perm.SCHEDULE_MANAGE)
@require_http_methods(["GET", "POST"])
def hours_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """A clinician's working periods per location and weekday (several a day make a split day) and time off."""
    clinician = _clinician(pk)
    hours_form = WorkingHoursForm(request.POST if request.POST.get("form") == "hours" else None)
    off_form = TimeOffForm(request.POST if request.POST.get("form") == "time_off" else None)
    status = 200
    if request.method == "POST":
        if request.POST.get("form") == "hours" and hours_form.is_valid():
            period = hours_form.save(commit=False)
            period.clinician = clinician
            period.save()
            audit_record(request=request, action=AuditAction.ADMIN, obj=period, detail="working hours added")
            messages.success(request, "Working hours added.")
            return redirect("scheduling:hours_edit", pk=pk)
        if request.POST.get("form") == "time_off" and off_form.is_valid():
            away = off_form.time_off(clinician)
            away.save()
            audit_record(request=request, action=AuditAction.ADMIN, obj=away, detail="time off added")
            messages.success(request, "Time off added.")
            return redirect("scheduling:hours_edit", pk=pk)
        status = 400
    context = {
        "clinician": clinician, "hours_form": hours_form, "off_form": off_form, "admin_tab": "hours",
        "hours": WorkingHours.objects.filter(clinician=clinician).select_related("location"),
        "time_off": TimeOff.objects.filter(clinician=clinician).select_related("location"),
    }  # fmt: skip
    return _admin(request, "scheduling/hours_edit.html", status, **context)


@require_perm(Perm.SCHEDULE_MANAGE)
@require_http_methods(["POST"])
def hours_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove one working period."""
    period = get_object_or_404(WorkingHours, pk=pk)
    audit_record(request=request, action=AuditAction.ADMIN, obj=period, detail="working hours removed")
    period.delete()
    messages.success(request, "Working hours removed.")
    return redirect("scheduling:hours_edit", pk=period.clinician_id)


@require_perm(Perm.SCHEDULE_MANAGE)
@require_http_methods(["POST"])
def time_off_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove a period of time off."""
    away = get_object_or_404(TimeOff, pk=pk)
    audit_record(request=request, action=AuditAction.ADMIN, obj=away, detail="time off removed")
    away.delete()
    messages.success(request, "Time off removed.")
    return redirect("scheduling:hours_edit", pk=away.clinician_id)
