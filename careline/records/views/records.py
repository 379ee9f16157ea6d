"""Staff pages of a patient's clinical record: the records page, entries with their history and amendments,
and documents. Parse -> authorize -> service/query -> render; every read audited."""

from __future__ import annotations

import copy
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_patient_access
from careline.core.permissions import Perm, has_perm, require_perm
from careline.patients.models import Patient
from careline.patients.queries import patient_for_user
from careline.records.forms import DocumentAmendForm, DocumentForm, entry_form_class
from careline.records.kinds import ENTRY_KINDS, EntryKind
from careline.records.models import Document, RecordEntry
from careline.records.queries import entry_history, records_for_patient, results_for_staff
from careline.records.services.documents import (
    document_add,
    document_download_name,
    document_max_bytes,
    document_read,
)
from careline.records.services.entries import record_amend


def form_errors_apply(form: Any, error: ValidationError) -> None:
    """Show a service's ValidationError on FORM, by field when it names one."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def page_context(request: HttpRequest, patient: Patient, **extra: Any) -> dict[str, Any]:
    """What every records page passes: the patient (base.html shows the banner) and the navigation."""
    return {
        "patient": patient,
        "nav": "patients",
        "may_edit": has_perm(request.user, Perm.RECORD_EDIT),
        "may_release": has_perm(request.user, Perm.RESULT_RELEASE),
        **extra,
    }


def audit_read(request: HttpRequest, patient: Patient, detail: str, obj: Any = None) -> None:
    """Record that a records page showing PATIENT's data was rendered."""
    audit_patient_access(
        request=request, action=AuditAction.VIEW, patient_id=patient.pk, obj=obj or patient, detail=detail
    )


@require_perm(Perm.RECORD_VIEW)
@require_GET
def patient_records(request: HttpRequest, pk: int) -> HttpResponse:
    """A patient's clinical record: allergies, medications, problems, immunizations, visit summaries,
    documents and results (released or not), with the forms' links."""
    patient = patient_for_user(request.user, pk, Perm.RECORD_VIEW)
    records = records_for_patient(patient, with_errors=True)
    results = results_for_staff(patient)
    audit_read(request, patient, "clinical record and results")
    context = page_context(
        request,
        patient,
        sections=[(ENTRY_KINDS[code], entries) for code, entries in records.by_kind()],
        documents=records.documents,
        results=results,
        unreleased_normal=any(
            r.released_at is None and r.flag == "normal" and r.status == "final" for r in results
        ),
    )
    return render(request, "records/patient.html", context)


def _entry_kind(code: str) -> EntryKind:
    kind = ENTRY_KINDS.get(code)
    if kind is None:
        raise Http404("No such kind of entry")
    return kind


def entry_add_view(code: str) -> Any:
    """The add page of entry kind CODE."""

    @require_perm(Perm.RECORD_EDIT)
    @require_http_methods(["GET", "POST"])
    def entry_add(request: HttpRequest, pk: int) -> HttpResponse:
        kind = _entry_kind(code)
        patient = patient_for_user(request.user, pk, Perm.RECORD_EDIT)
        form_class = entry_form_class(code)
        status = 200
        if request.method == "POST":
            form = form_class(request.POST, patient=patient)
            if form.is_valid():
                from careline.records.services.entries import record_add

                try:
                    record_add(
                        model=kind.model,
                        patient=patient,
                        values=form.entry_values(),
                        actor=Actor.from_request(request),
                    )
                except ValidationError as error:
                    form_errors_apply(form, error)
                else:
                    messages.success(request, f"{kind.noun.capitalize()} added.")
                    return redirect("records:patient", pk=patient.pk)
            status = 400
        else:
            form = form_class(patient=patient)
        audit_read(request, patient, f"form to add a {kind.noun}")
        context = page_context(request, patient, kind=kind, form=form)
        return render(request, "records/entry_add.html", context, status=status)

    entry_add.__name__ = entry_add.__qualname__ = f"{code.replace('-', '_')}_add"
    return entry_add


def entry_detail_view(code: str) -> Any:
    """The page of one entry of kind CODE: its current values, its history, and the amend form."""

    @require_perm(Perm.RECORD_VIEW)
    @require_http_methods(["GET", "POST"])
    def entry_detail(request: HttpRequest, pk: int, **ids: int) -> HttpResponse:
        kind = _entry_kind(code)
        entry_pk = ids[kind.kwarg]
        perm = Perm.RECORD_EDIT if request.method == "POST" else Perm.RECORD_VIEW
        patient = patient_for_user(request.user, pk, perm)
        entry: RecordEntry = get_object_or_404(kind.model, pk=entry_pk, patient=patient)
        form_class = entry_form_class(code)
        status = 200
        form = None
        if request.method == "POST":
            # The form works on a copy: the page still shows the entry as stored when the form is refused.
            form = form_class(request.POST, instance=copy.copy(entry), patient=patient, amending=True)
            if form.is_valid():
                try:
                    record_amend(
                        entry=entry,
                        values=form.entry_values(),
                        reason=form.cleaned_data["reason"],
                        actor=Actor.from_request(request),
                    )
                except ValidationError as error:
                    form_errors_apply(form, error)
                else:
                    messages.success(
                        request, f"{kind.noun.capitalize()} amended. The earlier version is kept."
                    )
                    return redirect(request.path)
            status = 400
        elif has_perm(request.user, Perm.RECORD_EDIT):
            form = form_class(instance=copy.copy(entry), patient=patient, amending=True)
        audit_read(request, patient, f"{kind.noun} and its history", obj=entry)
        context = page_context(
            request, patient, kind=kind, entry=entry, history=_history_rows(entry), form=form
        )
        return render(request, "records/entry_detail.html", context, status=status)

    entry_detail.__name__ = entry_detail.__qualname__ = code.replace("-", "_").rstrip("s")
    return entry_detail


def _history_rows(entry: RecordEntry) -> list[dict[str, Any]]:
    """Each version of ENTRY with its values labelled by the fields' names (for the history list)."""
    labels = {name: str(entry._meta.get_field(name).verbose_name).capitalize() for name in entry.TRACKED}  # type: ignore[union-attr]
    rows = []
    for revision in entry_history(entry):
        values = [(labels[name], value) for name, value in revision.values.items() if name in labels]
        rows.append({"revision": revision, "values": values})
    return rows


@require_perm(Perm.RECORD_EDIT)
@require_http_methods(["GET", "POST"])
def document_add_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a PDF to the patient's record."""
    patient = patient_for_user(request.user, pk, Perm.RECORD_EDIT)
    status = 200
    if request.method == "POST":
        form = DocumentForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                document_add(
                    patient=patient,
                    title=form.cleaned_data["title"],
                    upload=upload,
                    original_name=upload.name or "",
                    size=upload.size,
                    actor=Actor.from_request(request),
                )
            except ValidationError as error:
                form_errors_apply(form, error)
            else:
                messages.success(request, "Document added.")
                return redirect("records:patient", pk=patient.pk)
        status = 400
    else:
        form = DocumentForm()
    audit_read(request, patient, "form to add a document")
    context = page_context(request, patient, form=form, max_mb=document_max_bytes() // (1024 * 1024))
    return render(request, "records/document_add.html", context, status=status)


@require_perm(Perm.RECORD_VIEW)
@require_http_methods(["GET", "POST"])
def document_detail(request: HttpRequest, pk: int, document_pk: int) -> HttpResponse:
    """A document's details and history; its title and status may be amended."""
    perm = Perm.RECORD_EDIT if request.method == "POST" else Perm.RECORD_VIEW
    patient = patient_for_user(request.user, pk, perm)
    document = get_object_or_404(Document, pk=document_pk, patient=patient)
    status = 200
    form = None
    if request.method == "POST":
        form = DocumentAmendForm(request.POST)
        if form.is_valid():
            try:
                record_amend(
                    entry=document,
                    values={"title": form.cleaned_data["title"], "status": form.cleaned_data["status"]},
                    reason=form.cleaned_data["reason"],
                    actor=Actor.from_request(request),
                )
            except ValidationError as error:
                form_errors_apply(form, error)
            else:
                messages.success(request, "Document amended. The earlier version is kept.")
                return redirect(request.path)
        status = 400
    elif has_perm(request.user, Perm.RECORD_EDIT):
        form = DocumentAmendForm(initial={"title": document.title, "status": document.status})
    audit_read(request, patient, "document and its history", obj=document)
    context = page_context(request, patient, document=document, history=_history_rows(document), form=form)
    return render(request, "records/document_detail.html", context, status=status)


@require_perm(Perm.RECORD_VIEW)
@require_GET
def document_file(request: HttpRequest, pk: int, document_pk: int) -> HttpResponse:
    """The document's PDF (an attachment, never stored by the browser's cache)."""
    patient = patient_for_user(request.user, pk, Perm.RECORD_VIEW)
    document = get_object_or_404(Document, pk=document_pk, patient=patient)
    audit_read(request, patient, "document file", obj=document)
    return document_response(document)


def document_response(document: Document) -> HttpResponse:
    """DOCUMENT's PDF as a download named after its id (no patient data in the file name), not cached."""
    try:
        data = document_read(document)
    except FileNotFoundError:
        raise Http404("The file is missing") from None
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{document_download_name(document)}"'
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
