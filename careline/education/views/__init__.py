"""Staff pages of education: the library, an item's form, sending one to a patient, a program's items."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from careline.care.models import CareProgram
from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_patient_access
from careline.core.permissions import Perm, has_perm, require_perm
from careline.education.article import article_html
from careline.education.forms import AttachForm, ItemForm, SearchForm, SendForm
from careline.education.links import item_token
from careline.education.models import EducationItem, ProgramItem
from careline.education.queries import items_search, program_items_of, sends_of_patient
from careline.education.services import education_send, item_save, program_item_attach, program_item_remove
from careline.patients.queries import patient_for_user


def _errors_apply(form: Any, error: ValidationError) -> None:
    """Show a service's ValidationError on FORM, by field when it names one."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


@require_perm(Perm.PATIENT_VIEW)
@require_GET
def library(request: HttpRequest) -> HttpResponse:
    """The library: search by words, topic, language and kind (withdrawn items for those who manage it)."""
    form = SearchForm(request.GET or None)
    can_manage = has_perm(request.user, Perm.EDUCATION_MANAGE)
    filters = form.cleaned_data if form.is_valid() else {}
    items = list(
        items_search(
            text=filters.get("q", ""),
            topic=filters.get("topic", ""),
            language=filters.get("language", ""),
            kind=filters.get("kind", ""),
            include_withdrawn=can_manage,
        )[:200]
    )
    previews = {item.pk: item_token(item.pk) for item in items}
    rows = [(item, previews[item.pk]) for item in items]
    return render(
        request,
        "education/library.html",
        {"form": form, "rows": rows, "can_manage": can_manage, "nav": "education"},
        status=200 if form.is_bound is False or form.is_valid() else 400,
    )


@require_perm(Perm.EDUCATION_MANAGE)
@require_http_methods(["GET", "POST"])
def item_edit(request: HttpRequest, item_pk: int | None = None) -> HttpResponse:
    """Add an item to the library, or change one."""
    item = get_object_or_404(EducationItem, pk=item_pk) if item_pk is not None else None
    status = 200
    if request.method == "POST":
        form = ItemForm(request.POST, request.FILES, instance=item)
        if form.is_valid():
            upload = request.FILES.get("upload")
            values = {name: form.cleaned_data[name] for name in form.Meta.fields}
            try:
                saved = item_save(
                    item=item,
                    values=values,
                    upload=upload,
                    original_name=(upload.name or "") if upload else "",
                    size=upload.size if upload else None,
                    actor=Actor.from_request(request),
                )
            except ValidationError as error:
                _errors_apply(form, error)
            else:
                messages.success(request, f"Saved “{saved.title}”.")
                return redirect("education:library")
        status = 400
    else:
        form = ItemForm(instance=item)
    return render(
        request,
        "education/item_edit.html",
        {
            "form": form,
            "item": item,
            "preview": article_html(item.body) if item is not None and item.kind == "article" else "",
            "preview_token": item_token(item.pk) if item is not None else "",
            "nav": "education",
        },
        status=status,
    )


@require_perm(Perm.EDUCATION_SEND)
@require_http_methods(["GET", "POST"])
def send(request: HttpRequest, pk: int) -> HttpResponse:
    """Send an item to the patient or one of their caregivers (through the messaging pipeline)."""
    patient = patient_for_user(request.user, pk, Perm.EDUCATION_SEND)
    status = 200
    if request.method == "POST":
        form = SendForm(request.POST, patient=patient)
        if form.is_valid():
            try:
                sent = education_send(
                    item=form.cleaned_data["item"],
                    patient=patient,
                    caregiver=form.caregiver(),
                    actor=Actor.from_request(request),
                )
            except ValidationError as error:
                _errors_apply(form, error)
            else:
                message = sent.message
                if message is not None and message.suppression_reason:
                    messages.warning(
                        request,
                        f"Not sent: {message.get_suppression_reason_display()}. The attempt is kept on the card.",
                    )
                else:
                    messages.success(request, f"Sent to the {sent.recipient_label}.")
                return redirect("patients:detail", pk=patient.pk)
        status = 400
    else:
        form = SendForm(patient=patient)
    audit_patient_access(
        request=request,
        action=AuditAction.VIEW,
        patient_id=patient.pk,
        obj=patient,
        detail="education send form",
    )
    return render(
        request,
        "education/send.html",
        {
            "patient": patient,
            "form": form,
            "sends": sends_of_patient(patient.pk, limit=20),
            "nav": "patients",
        },
        status=status,
    )


@require_perm(Perm.EDUCATION_MANAGE)
@require_GET
def programs(request: HttpRequest) -> HttpResponse:
    """The care programs and how many education items each sends."""
    rows = [(program, len(program_items_of(program.pk))) for program in CareProgram.objects.order_by("name")]
    return render(request, "education/programs.html", {"rows": rows, "nav": "education"})


@require_perm(Perm.EDUCATION_MANAGE)
@require_http_methods(["GET", "POST"])
def program_items(request: HttpRequest, program_pk: int) -> HttpResponse:
    """A program's scheduled items: attach one on a day after enrolment, or remove one."""
    program = get_object_or_404(CareProgram, pk=program_pk)
    actor = Actor.from_request(request)
    status = 200
    form = AttachForm()
    if request.method == "POST" and "remove" in request.POST:
        try:
            remove_pk = int(request.POST["remove"])
        except ValueError:
            raise Http404("No such program item") from None
        program_item = get_object_or_404(ProgramItem, pk=remove_pk, program=program)
        program_item_remove(program_item=program_item, actor=actor)
        messages.success(request, "Removed from the program.")
        return redirect("education:program_items", program_pk=program.pk)
    if request.method == "POST":
        form = AttachForm(request.POST)
        if form.is_valid():
            try:
                program_item_attach(
                    program=program,
                    item=form.cleaned_data["item"],
                    day_offset=form.cleaned_data["day_offset"],
                    actor=actor,
                )
            except ValidationError as error:
                _errors_apply(form, error)
            else:
                messages.success(request, "Attached to the program.")
                return redirect("education:program_items", program_pk=program.pk)
        status = 400
    return render(
        request,
        "education/program_items.html",
        {"program": program, "items": program_items_of(program.pk), "form": form, "nav": "education"},
        status=status,
    )
