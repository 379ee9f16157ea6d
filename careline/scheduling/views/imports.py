"""Appointment CSV import page: upload, every row checked, then all imported or the errors by row shown."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from careline.core.actor import Actor
from careline.core.permissions import Perm, require_perm
from careline.scheduling.forms.appointments import ImportUploadForm
from careline.scheduling.services.imports import COLUMNS, appointment_import


@require_perm(Perm.SCHEDULE_MANAGE)
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    """Upload a practice-management CSV export of appointments."""
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    errors: list[dict[str, object]] = []
    status = 200
    if request.method == "POST":
        if form.is_valid():
            result = appointment_import(
                data=form.cleaned_data["file"].read(), actor=Actor.from_request(request)
            )
            if not result.errors:
                messages.success(
                    request,
                    f"Imported {result.created} appointments; {result.updated} updated, {result.unchanged} unchanged.",
                )
                return redirect("scheduling:import")
            errors = result.errors
        status = 400
    context = {"form": form, "errors": errors, "columns": COLUMNS, "nav": "admin", "admin_tab": "import"}
    return render(request, "scheduling/import.html", context, status=status)
