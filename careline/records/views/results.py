"""Staff pages of lab results: entry, a result's history and amendment, release, and release rules."""

from __future__ import annotations

import copy

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.core.permissions import Perm, has_perm, require_perm
from careline.patients.queries import patient_for_user
from careline.records.forms import ReleaseRuleForm, ResultForm
from careline.records.models import LabResult, ResultReleaseRule
from careline.records.queries import result_trend
from careline.records.services.results import (
    release_rule_save,
    result_add,
    result_amend,
    result_release,
    results_release_normal,
)
from careline.records.views.records import _history_rows, audit_read, form_errors_apply, page_context


@require_perm(Perm.RECORD_EDIT)
@require_http_methods(["GET", "POST"])
def result_add_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Enter a result; it is released at once, later, or held, as its test's rule says."""
    patient = patient_for_user(request.user, pk, Perm.RECORD_EDIT)
    status = 200
    # Times typed in the form are the patient's local times.
    with timezone.override(patient.zone):
        if request.method == "POST":
            form = ResultForm(request.POST)
            if form.is_valid():
                try:
                    result = result_add(
                        patient=patient, values=form.result_values(), actor=Actor.from_request(request)
                    )
                except ValidationError as error:
                    form_errors_apply(form, error)
                else:
                    messages.success(request, _entered_message(result))
                    return redirect("records:result", pk=patient.pk, result_pk=result.pk)
            status = 400
        else:
            form = ResultForm()
    audit_read(request, patient, "form to enter a result")
    return render(
        request, "records/result_add.html", page_context(request, patient, form=form), status=status
    )


def _entered_message(result: LabResult) -> str:
    if result.released_at is not None:
        return "Result entered and released to the patient."
    if result.release_due_at is not None:
        return "Result entered. Its test's rule releases it later."
    return "Result entered and held until a clinician releases it."


@require_perm(Perm.RECORD_VIEW)
@require_http_methods(["GET", "POST"])
def result_detail(request: HttpRequest, pk: int, result_pk: int) -> HttpResponse:
    """One result: its values, release state, the test's trend, its history, and the amend form."""
    perm = Perm.RECORD_EDIT if request.method == "POST" else Perm.RECORD_VIEW
    patient = patient_for_user(request.user, pk, perm)
    result = get_object_or_404(LabResult.objects.select_related("released_by"), pk=result_pk, patient=patient)
    status = 200
    form = None
    with timezone.override(patient.zone):
        if request.method == "POST":
            form = ResultForm(request.POST, amending=True)
            if form.is_valid():
                try:
                    result_amend(
                        result=result,
                        values=form.result_values(),
                        reason=form.cleaned_data["reason"],
                        actor=Actor.from_request(request),
                    )
                except ValidationError as error:
                    form_errors_apply(form, error)
                else:
                    messages.success(request, "Result amended. The earlier version is kept.")
                    return redirect(request.path)
            status = 400
        elif has_perm(request.user, Perm.RECORD_EDIT):
            form = ResultForm(initial=ResultForm.initial_for(copy.copy(result)), amending=True)
    audit_read(request, patient, "result and its history", obj=result)
    context = page_context(
        request,
        patient,
        result=result,
        history=_history_rows(result),
        trend=result_trend(patient, result.test_code) if result.released_at else [],
        form=form,
    )
    return render(request, "records/result_detail.html", context, status=status)


@require_perm(Perm.RESULT_RELEASE)
@require_POST
def result_release_action(request: HttpRequest, pk: int, result_pk: int) -> HttpResponse:
    """Release one result to the patient (they are told a result is ready, never which or its value)."""
    patient = patient_for_user(request.user, pk, Perm.RESULT_RELEASE)
    result = get_object_or_404(LabResult, pk=result_pk, patient=patient)
    try:
        released = result_release(result=result, actor=Actor.from_request(request))
    except ValidationError as error:
        messages.warning(request, " ".join(error.messages))
    else:
        if released:
            messages.success(request, "Result released. The patient is told a new result is ready.")
        else:
            messages.info(request, "This result was already released.")
    return redirect("records:patient", pk=patient.pk)


@require_perm(Perm.RESULT_RELEASE)
@require_POST
def results_release_normal_action(request: HttpRequest, pk: int) -> HttpResponse:
    """Release every unreleased normal result of the patient (one notice)."""
    patient = patient_for_user(request.user, pk, Perm.RESULT_RELEASE)
    count = results_release_normal(patient=patient, actor=Actor.from_request(request))
    if count:
        messages.success(request, f"{count} normal result(s) released. The patient is told once.")
    else:
        messages.info(request, "No normal result was waiting for release.")
    return redirect("records:patient", pk=patient.pk)


@require_perm(Perm.RESULT_RULE_MANAGE)
@require_http_methods(["GET", "POST"])
def release_rules(request: HttpRequest) -> HttpResponse:
    """The release rules per test, and a form to add one."""
    status = 200
    if request.method == "POST":
        form = ReleaseRuleForm(request.POST)
        if form.is_valid():
            try:
                release_rule_save(rule=None, values=form.cleaned_data, actor=Actor.from_request(request))
            except ValidationError as error:
                form_errors_apply(form, error)
            else:
                messages.success(request, "Release rule saved.")
                return redirect("records:release_rules")
        status = 400
    else:
        form = ReleaseRuleForm()
    audit_record(
        request=request, action=AuditAction.VIEW, object_type="records.resultreleaserule", detail="list"
    )
    rules = list(ResultReleaseRule.objects.select_related("updated_by"))
    return render(
        request, "records/release_rules.html", {"rules": rules, "form": form, "nav": "admin"}, status=status
    )


@require_perm(Perm.RESULT_RULE_MANAGE)
@require_http_methods(["GET", "POST"])
def release_rule_edit(request: HttpRequest, rule_pk: int) -> HttpResponse:
    """Change one test's release rule (it applies to results entered from then on)."""
    rule = get_object_or_404(ResultReleaseRule, pk=rule_pk)
    status = 200
    if request.method == "POST":
        form = ReleaseRuleForm(request.POST, instance=copy.copy(rule))
        if form.is_valid():
            try:
                release_rule_save(rule=rule, values=form.cleaned_data, actor=Actor.from_request(request))
            except ValidationError as error:
                form_errors_apply(form, error)
            else:
                messages.success(request, "Release rule saved.")
                return redirect("records:release_rules")
        status = 400
    else:
        form = ReleaseRuleForm(instance=copy.copy(rule))
    return render(
        request, "records/release_rule_edit.html", {"rule": rule, "form": form, "nav": "admin"}, status=status
    )
