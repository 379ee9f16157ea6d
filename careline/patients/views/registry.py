"""Patient registry pages: search and list, the patient page, registration, demographics, phones,
contact preferences, text consent and caregivers. Parse -> authorize -> service/query -> render."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_patient_access, audit_record
from careline.core.paging import MAX_PAGE_NUMBER, page_beyond
from careline.core.params import page_number
from careline.core.permissions import Perm, has_perm, require_perm
from careline.core.phones import format_phone
from careline.patients.forms.registry import (
    CaregiverForm,
    ConsentForm,
    ContactPreferencesForm,
    PatientCreateForm,
    PatientEditForm,
    PhoneAddForm,
    PhoneChoiceForm,
)
from careline.patients.list_actions import patient_list_actions_for
from careline.patients.models import Caregiver, ContactPreference, Patient
from careline.patients.page_sections import patient_sections_for
from careline.patients.queries import patient_for_user, patients_visible_to
from careline.patients.queries.notes import recent_notes_for
from careline.patients.queries.search import patient_search_queryset
from careline.patients.services import registry as services
from careline.patients.timeline import patient_timeline

PAGE_SIZE = 25
MAX_PAGE = 400  # deep OFFSETs get slow; past this, narrow the search


def _page_number(request: HttpRequest) -> int:
    """The page asked for (possibly past the last one or past MAX_PAGE: the list says so)."""
    return page_number(request.GET.get("page"), MAX_PAGE_NUMBER)


def _patient_context(request: HttpRequest, patient: Patient, **extra: Any) -> dict[str, Any]:
    """What every patient page needs: the patient (base.html shows their banner and pinned alerts) and the nav."""
    return {"patient": patient, "nav": "patients", **extra}


def _audit_page(request: HttpRequest, patient: Patient, detail: str, obj: Any = None) -> None:
    """Record that a page showing PATIENT's data was rendered (a form, or a form sent back with errors)."""
    audit_patient_access(
        request=request, action=AuditAction.VIEW, patient_id=patient.pk, obj=obj or patient, detail=detail
    )


def _apply_errors(form: Any, error: ValidationError) -> None:
    """Show a service's ValidationError on FORM (on its fields when it names them)."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


@require_perm(Perm.PATIENT_VIEW)
@require_http_methods(["GET"])
def patient_list(request: HttpRequest) -> HttpResponse:
    """The search box and the matching patients, a page at a time; HTMX swaps only the results."""
    text = request.GET.get("q", "").strip()[:100]
    page = _page_number(request)
    kind, queryset = patient_search_queryset(request.user, text)
    beyond = None
    if page > MAX_PAGE:
        # No deep OFFSET: past the last page is said so, anything else is the deepest page there is.
        beyond = page_beyond(page, queryset.count(), PAGE_SIZE)
        page = page if beyond is not None else MAX_PAGE
    patients: list[Patient] = []
    has_next = False
    if beyond is None:
        offset = (page - 1) * PAGE_SIZE
        # One extra row says whether a next page exists.
        rows = list(queryset[offset : offset + PAGE_SIZE + 1])
        patients, has_next = rows[:PAGE_SIZE], len(rows) > PAGE_SIZE
        if not patients and page > 1:
            # Not "no patients": a page past the last one. Counting costs a query only on this path.
            beyond = page_beyond(page, queryset.count(), PAGE_SIZE)
    # The query kind and the count, never the text: a name typed in the box is patient data.
    audit_record(
        request=request,
        action=AuditAction.SEARCH,
        object_type="patients.patient",
        detail=f"kind={kind}; results={len(patients)}{'+' if has_next else ''}; page={page}",
    )
    context = {
        "nav": "patients",
        "q": text,
        "kind": kind,
        "patients": patients,
        "page": page,
        "beyond": beyond,
        "query": urlencode({"q": text}) if text else "",
        "sees_every_location": has_perm(request.user, Perm.PATIENT_VIEW_ALL_LOCATIONS),
        "has_next": has_next,
        "previous_page": page - 1 if page > 1 and beyond is None else None,
        "next_page": page + 1 if has_next else None,
        "list_actions": patient_list_actions_for(request.user, text),
    }
    is_htmx = bool(getattr(request, "htmx", False))
    template = "patients/_results.html" if is_htmx else "patients/list.html"
    return render(request, template, context)


@require_perm(Perm.PATIENT_VIEW)
@require_http_methods(["GET"])
def patient_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The patient page: demographics, phones with consent, preferences, caregivers, notes and timeline."""
    patient = patient_for_user(request.user, pk)
    phones = list(patient.phones.all())
    states = services.consent_states(phone.number for phone in phones)
    primary = next((phone for phone in phones if phone.is_primary), phones[0] if phones else None)
    preferences = {
        p.purpose: p for p in ContactPreference.objects.filter(patient=patient).select_related("recorded_by")
    }
    sections = patient_sections_for(request.user, patient)
    shown = f"; sections: {', '.join(section.code for section in sections)}" if sections else ""
    audit_patient_access(
        request=request,
        action=AuditAction.VIEW,
        patient_id=patient.pk,
        obj=patient,
        detail=f"patient page{shown}",
    )
    context = _patient_context(
        request,
        patient,
        banner_consent=states[primary.number] if primary else "none",
        phones=[(phone, states[phone.number]) for phone in phones],
        preferences=[
            (label, preferences.get(purpose))
            for purpose, label in ContactPreference._meta.get_field("purpose").choices  # type: ignore[union-attr]
        ],
        caregivers=list(patient.caregivers.all()),
        # Without the permission the notes are not read at all; the panel says there is no access.
        notes=recent_notes_for(request.user, patient) if has_perm(request.user, Perm.NOTE_VIEW) else [],
        can_add_notes=has_perm(request.user, Perm.NOTE_ADD),
        timeline=patient_timeline(patient, request.user, limit=30),
        page_sections=sections,
    )
    return render(request, "patients/detail.html", context)


@require_perm(Perm.PATIENT_CREATE)
@require_http_methods(["GET", "POST"])
def patient_create(request: HttpRequest) -> HttpResponse:
    """Register a patient; possible duplicates are shown first and need an explicit 'create anyway'."""
    form = PatientCreateForm(request.POST or None, user=request.user)
    candidates: list[Patient] = []
    hidden_candidates = 0
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        phones = [data["phone"]] if data["phone"] else []
        everyone = services.patient_duplicate_candidates(
            first_name=data["legal_first_name"],
            last_name=data["legal_last_name"],
            date_of_birth=data["date_of_birth"],
            phones=phones,
        )
        visible_ids = set(
            patients_visible_to(request.user)
            .filter(pk__in=[p.pk for p in everyone])
            .values_list("pk", flat=True)
        )
        candidates = [p for p in everyone if p.pk in visible_ids]
        hidden_candidates = len(everyone) - len(candidates)
        confirmed = (
            request.POST.get("confirm") == "create-anyway"
            and {p.pk for p in everyone} <= form.seen_candidate_ids()
        )
        if not everyone or confirmed:
            fields = {name: data[name] for name in form._meta.fields if name in data}  # type: ignore[union-attr]
            try:
                patient = services.patient_create(actor=Actor.from_request(request), phones=phones, **fields)
            except ValidationError as error:
                _apply_errors(form, error)
            else:
                messages.success(request, f"{patient.display_name} is registered.")
                return HttpResponseRedirect(reverse("patients:detail", args=[patient.pk]))
        else:
            # Remember what was shown, so a confirmation covers exactly these possible matches.
            shown = request.POST.copy()
            shown["seen_candidates"] = ",".join(str(p.pk) for p in everyone)
            form.data = shown
    return render(
        request,
        "patients/create.html",
        {
            "form": form,
            "candidates": candidates,
            "hidden_candidates": hidden_candidates,
            "show_duplicates": bool(candidates or hidden_candidates),
            "nav": "patients",
        },
        status=400 if form.errors else 200,
    )


@require_perm(Perm.PATIENT_EDIT)
@require_http_methods(["GET", "POST"])
def patient_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change demographics and status; the audit entry names the fields that changed."""
    patient = patient_for_user(request.user, pk, Perm.PATIENT_EDIT)
    # The form works on its own copy: a ModelForm writes into its instance while validating.
    form = PatientEditForm(
        request.POST or None, instance=Patient.objects.get(pk=patient.pk), user=request.user
    )
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form._meta.fields}  # type: ignore[union-attr]
        try:
            changed = services.patient_update(
                patient=patient, actor=Actor.from_request(request), changes=changes
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, "Saved." if changed else "Nothing changed.")
            return HttpResponseRedirect(reverse("patients:detail", args=[patient.pk]))
    _audit_page(request, patient, "demographics form")
    context = _patient_context(request, patient, form=form)
    return render(request, "patients/edit.html", context, status=400 if form.errors else 200)


@require_perm(Perm.PATIENT_EDIT)
@require_http_methods(["GET", "POST"])
def patient_phones(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a number, remove one, or choose the primary one."""
    patient = patient_for_user(request.user, pk, Perm.PATIENT_EDIT)
    action = request.POST.get("action", "add")
    add_form = PhoneAddForm(request.POST if request.method == "POST" and action == "add" else None)
    if request.method == "POST":
        if action in {"remove", "primary"}:
            choice = PhoneChoiceForm(request.POST, patient=patient)
            if choice.is_valid():
                phone = choice.cleaned_data["phone"]
                if action == "remove":
                    services.patient_phone_remove(phone=phone, actor=Actor.from_request(request))
                    messages.success(request, f"{format_phone(phone.number)} removed.")
                else:
                    services.patient_phone_set_primary(phone=phone, actor=Actor.from_request(request))
                    messages.success(request, f"{format_phone(phone.number)} is now the primary number.")
                return HttpResponseRedirect(reverse("patients:phones", args=[patient.pk]))
            messages.error(request, "That number is not on file for this patient.")
        elif add_form.is_valid():
            data = add_form.cleaned_data
            try:
                phone = services.patient_phone_add(
                    patient=patient,
                    number=data["number"],
                    actor=Actor.from_request(request),
                    kind=data["kind"] or None,
                    is_primary=data["is_primary"],
                    label=data["label"],
                )
            except ValidationError as error:
                add_form.add_error("number", error)
            else:
                messages.success(request, f"{format_phone(phone.number)} added.")
                return HttpResponseRedirect(reverse("patients:phones", args=[patient.pk]))
    phones = list(patient.phones.all())
    states = services.consent_states(phone.number for phone in phones)
    _audit_page(request, patient, "phone numbers")
    context = _patient_context(
        request, patient, form=add_form, phones=[(phone, states[phone.number]) for phone in phones]
    )
    return render(request, "patients/phones.html", context, status=400 if add_form.errors else 200)


@require_perm(Perm.PATIENT_EDIT)
@require_http_methods(["GET", "POST"])
def patient_preferences(request: HttpRequest, pk: int) -> HttpResponse:
    """How the patient wants to hear about each purpose."""
    patient = patient_for_user(request.user, pk, Perm.PATIENT_EDIT)
    current = dict(ContactPreference.objects.filter(patient=patient).values_list("purpose", "channel"))
    form = ContactPreferencesForm(request.POST or None, current=current)
    if request.method == "POST" and form.is_valid():
        for purpose, channel in form.cleaned_data.items():
            if channel and current.get(purpose) != channel:
                services.contact_preference_set(
                    patient=patient, purpose=purpose, channel=channel, actor=Actor.from_request(request)
                )
        messages.success(request, "Contact preferences saved.")
        return HttpResponseRedirect(reverse("patients:detail", args=[patient.pk]))
    _audit_page(request, patient, "contact preferences")
    context = _patient_context(request, patient, form=form)
    return render(request, "patients/preferences.html", context, status=400 if form.errors else 200)


@require_perm(Perm.CONSENT_RECORD)
@require_http_methods(["GET", "POST"])
def patient_consent(request: HttpRequest, pk: int) -> HttpResponse:
    """Record text-message consent given or revoked for one of the patient's numbers."""
    patient = patient_for_user(request.user, pk, Perm.CONSENT_RECORD)
    phones = list(patient.phones.all())
    states = services.consent_states(phone.number for phone in phones)
    numbers = [(phone.number, format_phone(phone.number)) for phone in phones]
    form = ConsentForm(
        request.POST or None, numbers=numbers, initial={"phone_number": request.GET.get("number")}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.consent_record(
                phone_number=data["phone_number"],
                kind=data["kind"],
                method=data["method"],
                patient=patient,
                actor=Actor.from_request(request),
                note=data["note"],
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, "Consent recorded.")
            return HttpResponseRedirect(reverse("patients:detail", args=[patient.pk]))
    _audit_page(request, patient, "text consent")
    context = _patient_context(
        request, patient, form=form, phones=[(phone, states[phone.number]) for phone in phones]
    )
    return render(request, "patients/consent.html", context, status=400 if form.errors else 200)


@require_perm(Perm.PATIENT_EDIT)
@require_http_methods(["GET", "POST"])
def caregiver_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a caregiver or proxy."""
    patient = patient_for_user(request.user, pk, Perm.PATIENT_EDIT)
    form = CaregiverForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.caregiver_create(patient=patient, actor=Actor.from_request(request), **form.cleaned_data)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, "Caregiver added.")
            return HttpResponseRedirect(reverse("patients:detail", args=[patient.pk]))
    _audit_page(request, patient, "caregiver form")
    context = _patient_context(request, patient, form=form, title="Add a caregiver")
    return render(request, "patients/caregiver_form.html", context, status=400 if form.errors else 200)


@require_perm(Perm.PATIENT_EDIT)
@require_http_methods(["GET", "POST"])
def caregiver_edit(request: HttpRequest, pk: int, caregiver_pk: int) -> HttpResponse:
    """Change a caregiver, what they receive, or mark them inactive."""
    patient = patient_for_user(request.user, pk, Perm.PATIENT_EDIT)
    caregiver = get_object_or_404(Caregiver, pk=caregiver_pk, patient=patient)
    form = CaregiverForm(request.POST or None, instance=Caregiver.objects.get(pk=caregiver.pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.caregiver_update(
                caregiver=caregiver, actor=Actor.from_request(request), changes=form.cleaned_data
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, "Caregiver saved.")
            return HttpResponseRedirect(reverse("patients:detail", args=[patient.pk]))
    _audit_page(request, patient, "caregiver", obj=caregiver)
    context = _patient_context(request, patient, form=form, title=f"Caregiver: {caregiver.name}")
    return render(request, "patients/caregiver_form.html", context, status=400 if form.errors else 200)
