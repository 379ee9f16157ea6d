"""Care notes and pinned alerts: the notes page, a note's history, amendments, and alert pinning."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_patient_access
from careline.core.paging import paginate
from careline.core.permissions import Perm, has_perm, require_perm
from careline.patients.forms.notes import AlertForm, NoteAmendForm, NoteForm
from careline.patients.models import CareNote, Patient, PatientAlert
from careline.patients.queries import patient_for_user
from careline.patients.queries.notes import (
    active_alerts,
    note_current_text,
    note_for_user,
    note_history,
    note_latest_amendment,
    notes_visible_to,
    recent_notes_for,
)
from careline.patients.services import notes as note_services

NOTES_PER_PAGE = 50
PANEL_NOTES = 5


def _add_errors(form: Any, error: ValidationError) -> None:
    """Show a service's ValidationError on FORM, by field when it names one."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _patient_context(request: HttpRequest, patient: Patient, **extra: Any) -> dict[str, Any]:
    """What every notes page passes: the patient (base.html shows their banner) and their pinned alerts."""
    return {"patient": patient, "alerts": active_alerts(patient), "nav": "patients", **extra}


def _visible_note(request: HttpRequest, patient: Patient, note_pk: int) -> CareNote:
    """Note NOTE_PK of PATIENT if the person may read its kind; 404 otherwise (its existence stays hidden)."""
    note = note_for_user(request.user, patient, note_pk)
    if note is None:
        raise Http404("No such note")
    return note


def _notes_page(request: HttpRequest, patient: Patient, form: NoteForm, status: int = 200) -> HttpResponse:
    # Also when a note was refused and the page comes back with the form: the notes are shown again.
    audit_patient_access(request=request, action=AuditAction.VIEW, patient_id=patient.pk, detail="care notes")
    page, beyond = paginate(notes_visible_to(request.user, patient), NOTES_PER_PAGE, request.GET.get("page"))
    context = _patient_context(
        request,
        patient,
        page_obj=page,
        beyond=beyond,
        notes=page.object_list if page is not None else [],
        form=form,
        alert_form=AlertForm(),
        can_add_notes=has_perm(request.user, Perm.NOTE_ADD),
    )
    return render(request, "patients/notes.html", context, status=status)


@require_perm(Perm.NOTE_VIEW)
@require_http_methods(["GET"])
def note_list(request: HttpRequest, pk: int) -> HttpResponse:
    """Every note about the patient the person may read, newest first, the alerts and an add form."""
    patient = patient_for_user(request.user, pk, Perm.NOTE_VIEW)
    return _notes_page(request, patient, NoteForm(user=request.user))


@require_perm(Perm.NOTE_ADD)
@require_POST
def note_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a note. From the patient page's panel (HTMX) the panel is re-rendered; otherwise back to the notes."""
    patient = patient_for_user(request.user, pk, Perm.NOTE_ADD)
    from_panel = bool(getattr(request, "htmx", False))
    form = NoteForm(request.POST, user=request.user, auto_id="quicknote_%s" if from_panel else "id_%s")
    note = None
    if form.is_valid():
        try:
            note = note_services.note_add(
                patient=patient,
                kind=form.cleaned_data["kind"],
                text=form.cleaned_data["text"],
                actor=Actor.from_request(request),
            )
        except ValidationError as error:
            _add_errors(form, error)
    if from_panel:
        if note is None:  # an added note is audited by note_add; a refused one shows the recent notes again
            audit_patient_access(
                request=request, action=AuditAction.VIEW, patient_id=patient.pk, detail="care notes panel"
            )
        context = {
            "patient": patient,
            "notes": recent_notes_for(request.user, patient, limit=PANEL_NOTES),
            "can_add_notes": True,
            "note_form": NoteForm(user=request.user, auto_id="quicknote_%s") if note is not None else form,
            "note_added": note is not None,
        }
        # 200 even with errors: HTMX swaps only successful responses, and the form shows what to fix.
        return render(request, "patients/_notes.html", context)
    if note is None:
        return _notes_page(request, patient, form, status=400)
    messages.success(request, "Note added.")
    return redirect("patients:notes", pk=patient.pk)


@require_perm(Perm.NOTE_VIEW)
@require_http_methods(["GET"])
def note_detail(request: HttpRequest, pk: int, note_pk: int) -> HttpResponse:
    """One note: the original text, then every amendment with who made it, when and why."""
    patient = patient_for_user(request.user, pk, Perm.NOTE_VIEW)
    note = _visible_note(request, patient, note_pk)
    audit_patient_access(
        request=request,
        action=AuditAction.VIEW,
        patient_id=patient.pk,
        obj=note,
        detail="care note and history",
    )
    context = _patient_context(
        request,
        patient,
        note=note,
        amendments=note_history(note),
        current_text=note_current_text(note),
        can_add_notes=has_perm(request.user, Perm.NOTE_ADD),
    )
    return render(request, "patients/note_detail.html", context)


@require_perm(Perm.NOTE_ADD)
@require_http_methods(["GET", "POST"])
def note_amend(request: HttpRequest, pk: int, note_pk: int) -> HttpResponse:
    """Amend a note: the new text and the reason are kept beside the original."""
    patient = patient_for_user(request.user, pk, Perm.NOTE_ADD)
    note = _visible_note(request, patient, note_pk)
    status = 200
    if request.method == "POST":
        form = NoteAmendForm(request.POST)
        if form.is_valid():
            try:
                note_services.note_amend(
                    note=note,
                    text=form.cleaned_data["text"],
                    reason=form.cleaned_data["reason"],
                    actor=Actor.from_request(request),
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, "Note amended. The earlier text is kept in its history.")
                return redirect("patients:note_detail", pk=patient.pk, note_pk=note.pk)
        status = 400
    else:
        form = NoteAmendForm(initial={"text": note_current_text(note)})
    audit_patient_access(
        request=request,
        action=AuditAction.VIEW,
        patient_id=patient.pk,
        obj=note,
        detail="care note (to amend)",
    )
    context = _patient_context(request, patient, note=note, form=form, latest=note_latest_amendment(note))
    return render(request, "patients/note_amend.html", context, status=status)


@require_perm(Perm.NOTE_ADD)
@require_http_methods(["GET", "POST"])
def alert_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Pin an alert on the patient's pages."""
    patient = patient_for_user(request.user, pk, Perm.NOTE_ADD)
    status = 200
    if request.method == "POST":
        form = AlertForm(request.POST)
        if form.is_valid():
            try:
                note_services.alert_add(
                    patient=patient,
                    kind=form.cleaned_data["kind"],
                    text=form.cleaned_data["text"],
                    actor=Actor.from_request(request),
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, "Alert pinned.")
                return redirect("patients:notes", pk=patient.pk)
        status = 400
    else:
        form = AlertForm()
    audit_patient_access(request=request, action=AuditAction.VIEW, patient_id=patient.pk, detail="alert form")
    return render(
        request, "patients/alert_form.html", _patient_context(request, patient, form=form), status=status
    )


@require_perm(Perm.NOTE_ADD)
@require_POST
def alert_remove(request: HttpRequest, pk: int, alert_pk: int) -> HttpResponse:
    """Unpin an alert; the alert is kept with who removed it and when."""
    patient = patient_for_user(request.user, pk, Perm.NOTE_ADD)
    alert = get_object_or_404(PatientAlert, pk=alert_pk, patient=patient)
    try:
        note_services.alert_remove(alert=alert, actor=Actor.from_request(request))
    except ValidationError as error:
        messages.warning(request, " ".join(error.messages))
    else:
        messages.success(request, "Alert removed.")
    return redirect("patients:notes", pk=patient.pk)
