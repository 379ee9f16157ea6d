"""Patient CSV import: the upload page and the status page that follows the background task."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from careline.core.actor import Actor
from careline.core.permissions import Perm, has_perm, require_perm
from careline.patients.forms.imports import ImportUploadForm
from careline.patients.models import PatientImport
from careline.patients.services.imports import COLUMNS, REQUIRED_COLUMNS, patient_import_start

RECENT_IMPORTS = 10


def _imports_visible_to(request: HttpRequest) -> object:
    """Imports the person may follow: their own, or every one with PATIENT_VIEW_ALL_LOCATIONS."""
    imports = PatientImport.objects.select_related("created_by")
    if has_perm(request.user, Perm.PATIENT_VIEW_ALL_LOCATIONS):
        return imports
    return imports.filter(created_by=request.user.pk)


@require_perm(Perm.PATIENT_IMPORT)
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    """Upload a CSV of patients; it is checked and imported in the background."""
    status = 200
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            patient_import = patient_import_start(
                upload=form.cleaned_data["file"], actor=Actor.from_request(request)
            )
            return redirect("patients:import_status", pk=patient_import.pk)
        status = 400
    else:
        form = ImportUploadForm()
    imports = PatientImport.objects.filter(created_by=request.user.pk).order_by("-created_at")[
        :RECENT_IMPORTS
    ]
    context = {
        "form": form,
        "imports": imports,
        "columns": COLUMNS,
        "required_columns": REQUIRED_COLUMNS,
        "all_locations": has_perm(request.user, Perm.PATIENT_VIEW_ALL_LOCATIONS),
        "nav": "import",
    }
    return render(request, "patients/import_upload.html", context, status=status)


@require_perm(Perm.PATIENT_IMPORT)
@require_http_methods(["GET"])
def import_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Progress of an import, then its errors or the number created. HTMX polls return only the panel."""
    patient_import = _imports_visible_to(request).filter(pk=pk).first()  # type: ignore[attr-defined]
    if patient_import is None:
        raise Http404("No such import")
    context = {"patient_import": patient_import, "nav": "import"}
    if getattr(request, "htmx", False):
        return render(request, "patients/_import_progress.html", context)
    return render(request, "patients/import_status.html", context)
