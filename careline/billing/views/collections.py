"""Staff pages of collections: the billing worklist, the dashboard (with CSV), and the ledger's plan and dispute
actions. Billing staff only (BILLING_VIEW to read, BILLING_RECORD to act); reads of patients' balances are
audited, one entry per patient shown."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from careline.billing.forms import PlanForm, ReasonForm, ResolutionForm, TaskCloseForm, TaskNoteForm
from careline.billing.models import (
    Dispute,
    FollowUpAction,
    FollowUpStep,
    Payment,
    PaymentPlan,
    Statement,
    StatementState,
    TaskKind,
)
from careline.billing.money import format_money
from careline.billing.queries.collections import (
    AGE_FILTERS,
    accounts_in,
    age_buckets,
    aged_accounts,
    billing_dashboard,
    open_disputes,
    overpayments_to_review,
    task_for_user,
    worklist_tasks,
)
from careline.billing.services.collections import dispute_open, dispute_resolve
from careline.billing.services.overpayments import overpayment_review
from careline.billing.services.plans import plan_cancel, plan_create
from careline.billing.services.tasks import task_assign, task_close, task_note_add
from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_patients_record, audit_record
from careline.core.csv_export import csv_writer
from careline.core.permissions import Perm, has_perm, require_perm
from careline.patients.queries import patient_for_user

PAGE_SIZE = 50


def _refusal(error: ValidationError) -> str:
    return " ".join(error.messages)


def _form_errors(form: Any) -> str:
    """A form's errors as one sentence for a message ("Monthly payments: Enter a whole number.")."""
    parts = []
    for name, problems in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        parts.append(f"{label}: {' '.join(problems)}" if label else " ".join(problems))
    return " ".join(parts)


@require_perm(Perm.BILLING_VIEW)
@require_http_methods(["GET"])
def worklist(request: HttpRequest) -> HttpResponse:
    """Tasks (calls, reviews, missed instalments, disputes), balances by age, and open disputes."""
    show = request.GET.get("show", "open")
    if show not in {"open", "mine", "unassigned", "done"}:
        show = "open"
    kind = request.GET.get("kind", "")
    if kind not in TaskKind.values:
        kind = ""
    age = request.GET.get("age", "")
    if age not in AGE_FILTERS:
        age = ""
    tasks_page = Paginator(worklist_tasks(request.user, show=show, kind=kind), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    accounts = aged_accounts(request.user)
    buckets = age_buckets(accounts)
    shown_accounts = accounts_in(accounts, age)[:PAGE_SIZE]
    disputes = list(open_disputes(request.user)[:PAGE_SIZE])
    overpayments = list(overpayments_to_review(request.user)[:PAGE_SIZE])
    shown_ids = {task.patient_id for task in tasks_page} | {a.patient.pk for a in shown_accounts}
    shown_ids |= {d.patient_id for d in disputes} | {p.patient_id for p in overpayments}
    if shown_ids:
        audit_patients_record(
            actor=Actor.from_request(request),
            action=AuditAction.VIEW,
            patient_ids=sorted(shown_ids),
            detail="billing worklist",
        )
    billers = list(
        get_user_model().objects.filter(is_active=True).prefetch_related("role_rows").order_by("full_name")
    )
    for candidate in billers:  # fill the cached role codes from the prefetch: no query per person
        candidate.__dict__["role_codes"] = frozenset(row.role for row in candidate.role_rows.all())
    context = {
        "nav": "billing",
        "show": show,
        "kind": kind,
        "age": age,
        "kinds": TaskKind.choices,
        "tasks": tasks_page,
        "buckets": buckets,
        "accounts": shown_accounts,
        "accounts_more": max(len(accounts_in(accounts, age)) - PAGE_SIZE, 0),
        "disputes": disputes,
        "overpayments": overpayments,
        "may_act": has_perm(request.user, Perm.BILLING_RECORD),
        "billers": [u for u in billers if has_perm(u, Perm.BILLING_RECORD)],
        "note_form": TaskNoteForm(),
        "close_form": TaskCloseForm(),
    }
    return render(request, "billing/worklist.html", context)


def _task_or_404(request: HttpRequest, pk: int) -> Any:
    task = task_for_user(request.user, pk)
    if task is None:
        raise Http404("No such task")
    return task


def _back_to_worklist(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if target.startswith(reverse("billing:worklist")):
        return redirect(target)
    return redirect("billing:worklist")


@require_perm(Perm.BILLING_RECORD)
@require_http_methods(["POST"])
def task_assign_view(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task_or_404(request, pk)
    choice = request.POST.get("assignee", "")
    assignee = None
    if choice == "me":
        assignee = request.user
    elif choice:
        if not choice.isdigit():
            messages.error(request, "Choose someone on the billing team.")
            return _back_to_worklist(request)
        assignee = get_user_model().objects.filter(pk=int(choice)).first()
        if assignee is None:
            messages.error(request, "Choose someone on the billing team.")
            return _back_to_worklist(request)
    try:
        task_assign(task=task, assignee=assignee, actor=Actor.from_request(request))
    except ValidationError as error:
        messages.error(request, _refusal(error))
    else:
        messages.success(request, "Task assigned." if assignee else "Task unassigned.")
    return _back_to_worklist(request)


@require_perm(Perm.BILLING_RECORD)
@require_http_methods(["POST"])
def task_note_view(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task_or_404(request, pk)
    form = TaskNoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return _back_to_worklist(request)
    try:
        task_note_add(task=task, body=form.cleaned_data["body"], actor=Actor.from_request(request))
    except ValidationError as error:
        messages.error(request, _refusal(error))
    else:
        messages.success(request, "Note added.")
    return _back_to_worklist(request)


@require_perm(Perm.BILLING_RECORD)
@require_http_methods(["POST"])
def task_close_view(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task_or_404(request, pk)
    form = TaskCloseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return _back_to_worklist(request)
    try:
        task_close(task=task, outcome=form.cleaned_data["outcome"], actor=Actor.from_request(request))
    except ValidationError as error:
        messages.error(request, _refusal(error))
    else:
        messages.success(request, "Task done.")
    return _back_to_worklist(request)


@require_perm(Perm.BILLING_RECORD)
@require_http_methods(["POST"])
def overpayment_review_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Review an overpayment from the worklist: refund the excess, or keep it as the patient's credit."""
    payment = get_object_or_404(Payment, pk=pk)
    patient_for_user(request.user, payment.patient_id, Perm.BILLING_RECORD)
    try:
        overpayment_review(
            payment=payment, outcome=request.POST.get("outcome", ""), actor=Actor.from_request(request)
        )
    except ValidationError as error:
        messages.error(request, _refusal(error))
    else:
        messages.success(request, "Overpayment reviewed.")
    return _back_to_worklist(request)


# --- the dashboard ----------------------------------------------------------------------------------------


def _dashboard_read(request: HttpRequest, detail: str) -> Any:
    dashboard = billing_dashboard(request.user)
    audit_record(request=request, action=AuditAction.VIEW, object_type="billing.dashboard", detail=detail)
    return dashboard


@require_perm(Perm.BILLING_VIEW)
@require_http_methods(["GET"])
def dashboard(request: HttpRequest) -> HttpResponse:
    """Outstanding by age, statements and payment rate by channel, collected per month (totals, no patients)."""
    figures = _dashboard_read(request, "billing dashboard")
    return render(request, "billing/dashboard.html", {"nav": "billing", "dash": figures})


@require_perm(Perm.BILLING_VIEW)
@require_http_methods(["GET"])
def dashboard_csv(request: HttpRequest) -> HttpResponse:
    figures = _dashboard_read(request, "billing dashboard (CSV)")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="billing-{figures.start}-{figures.end}.csv"'
    writer = csv_writer(response)
    writer.writerow(["section", "label", "count", "amount", "rate", "median_days"])
    for bucket in figures.buckets:
        writer.writerow(
            [
                "outstanding_by_age",
                bucket.label,
                bucket.count,
                format_money(bucket.total, figures.currency),
                "",
                "",
            ]
        )
    for channel in figures.channels:
        rate = f"{channel.payment_rate:.3f}" if channel.payment_rate is not None else ""
        median = f"{channel.median_days:g}" if channel.median_days is not None else ""
        writer.writerow(["statements_by_channel", channel.label, channel.sent, "", rate, median])
    for month, amount in figures.collected:
        writer.writerow(
            [
                "collected_by_month",
                month.strftime("%Y-%m"),
                "",
                format_money(amount, figures.currency),
                "",
                "",
            ]
        )
    return response


# --- the ledger's plan and dispute actions ------------------------------------------------------------


def _ledger(patient_id: int) -> HttpResponse:
    return redirect(reverse("billing:ledger", args=[patient_id]) + "#collections-title")


@require_perm(Perm.BILLING_RECORD)
@require_http_methods(["POST"])
def plan_create_view(request: HttpRequest, pk: int) -> HttpResponse:
    patient = patient_for_user(request.user, pk, Perm.BILLING_RECORD)
    statement = (
        Statement.objects.filter(patient=patient, state=StatementState.ISSUED).order_by("-issued_at").first()
    )
    if statement is None:
        messages.error(request, "Issue a statement first: a plan pays a statement's balance.")
        return _ledger(patient.pk)
    form = PlanForm(request.POST, prefix="plan")
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return _ledger(patient.pk)
    try:
        plan = plan_create(
            statement=statement,
            instalments=form.cleaned_data["instalments"],
            first_due=form.cleaned_data["first_due"],
            actor=Actor.from_request(request),
        )
    except ValidationError as error:
        messages.error(request, _refusal(error))
    else:
        messages.success(request, f"Payment plan set up: {plan.instalments.count()} monthly payments.")
    return _ledger(patient.pk)


@require_perm(Perm.BILLING_RECORD)
@require_http_methods(["POST"])
def plan_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(PaymentPlan, pk=pk)
    patient = patient_for_user(request.user, plan.patient_id, Perm.BILLING_RECORD)
    form = ReasonForm(request.POST, prefix="plan-cancel")
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return _ledger(patient.pk)
    try:
        plan_cancel(plan=plan, reason=form.cleaned_data["reason"], actor=Actor.from_request(request))
    except ValidationError as error:
        messages.error(request, _refusal(error))
    else:
        messages.success(request, "Payment plan cancelled.")
    return _ledger(patient.pk)


@require_perm(Perm.BILLING_RECORD)
@require_http_methods(["POST"])
def dispute_open_view(request: HttpRequest, pk: int) -> HttpResponse:
    patient = patient_for_user(request.user, pk, Perm.BILLING_RECORD)
    form = ReasonForm(request.POST, prefix="dispute")
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return _ledger(patient.pk)
    statement = (
        Statement.objects.filter(patient=patient, state=StatementState.ISSUED).order_by("-issued_at").first()
    )
    try:
        dispute_open(
            patient=patient,
            statement=statement,
            reason=form.cleaned_data["reason"],
            actor=Actor.from_request(request),
        )
    except ValidationError as error:
        messages.error(request, _refusal(error))
    else:
        messages.success(request, "Dispute recorded: follow-ups are stopped until it is resolved.")
    return _ledger(patient.pk)


@require_perm(Perm.BILLING_RECORD)
@require_http_methods(["POST"])
def dispute_resolve_view(request: HttpRequest, pk: int) -> HttpResponse:
    dispute = get_object_or_404(Dispute, pk=pk)
    patient = patient_for_user(request.user, dispute.patient_id, Perm.BILLING_RECORD)
    form = ResolutionForm(request.POST, prefix="resolve")
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return _ledger(patient.pk)
    try:
        dispute_resolve(
            dispute=dispute, resolution=form.cleaned_data["resolution"], actor=Actor.from_request(request)
        )
    except ValidationError as error:
        messages.error(request, _refusal(error))
    else:
        messages.success(request, "Dispute resolved.")
    return _ledger(patient.pk)


# --- the sequence's configuration (administrators) ---------------------------------------------------------


@require_perm(Perm.BILLING_CONFIGURE)
@require_http_methods(["GET", "POST"])
def followup_steps(request: HttpRequest) -> HttpResponse:
    """The collections sequence: each step's day and action, on or off; add a step. Applies to statements
    issued from now on."""
    status = 200
    if request.method == "POST":
        error = _steps_save(request)
        if error is None:
            messages.success(
                request, "Follow-up sequence saved. It applies to statements issued from now on."
            )
            return redirect("billing:followup_steps")
        messages.error(request, error)
        status = 400
    steps = list(FollowUpStep.objects.all())
    return render(
        request,
        "billing/followup_steps.html",
        {"nav": "billing", "steps": steps, "actions": FollowUpAction.choices},
        status=status,
    )


def _steps_save(request: HttpRequest) -> str | None:
    """Apply the posted steps; an error message (nothing saved) or None."""
    changes: list[tuple[FollowUpStep, int, str, bool]] = []
    for step in FollowUpStep.objects.all():
        days = request.POST.get(f"days-{step.pk}", str(step.days_after)).strip()
        action = request.POST.get(f"action-{step.pk}", step.action)
        active = request.POST.get(f"active-{step.pk}") == "on"
        if not days.isdigit() or not 1 <= int(days) <= 365:
            return "Each step's day is a whole number from 1 to 365."
        if action not in FollowUpAction.values:
            return "Choose an action for each step."
        changes.append((step, int(days), action, active))
    new_days = request.POST.get("new-days", "").strip()
    new_action = request.POST.get("new-action", "")
    if new_days or new_action:
        if not new_days.isdigit() or not 1 <= int(new_days) <= 365:
            return "The new step's day is a whole number from 1 to 365."
        if new_action not in FollowUpAction.values:
            return "Choose the new step's action."
    seen = [(day_count, step_action) for _step, day_count, step_action, _active in changes]
    if (new_days and (int(new_days), new_action) in seen) or len(set(seen)) != len(seen):
        return "Two steps cannot do the same thing on the same day."
    actor = Actor.from_request(request)
    for changed, day_count, step_action, active in changes:
        if (changed.days_after, changed.action, changed.is_active) != (day_count, step_action, active):
            changed.days_after, changed.action, changed.is_active = day_count, step_action, active
            changed.save()
            audit_record(actor=actor, action=AuditAction.UPDATE, obj=changed, detail="follow-up step")
    if new_days:
        added = FollowUpStep.objects.create(days_after=int(new_days), action=new_action)
        audit_record(actor=actor, action=AuditAction.CREATE, obj=added, detail="follow-up step")
    return None


def collections_context(request: HttpRequest, patient: Any) -> dict[str, Any]:
    """What the ledger's Collections card shows: the open statement's follow-ups, the plan, the dispute."""
    from careline.billing.models import FollowUp, PlanState

    statement = (
        Statement.objects.filter(patient=patient, state=StatementState.ISSUED).order_by("-issued_at").first()
    )
    plan = (
        PaymentPlan.objects.filter(patient=patient, state=PlanState.ACTIVE)
        .prefetch_related("instalments")
        .first()
    )
    dispute = Dispute.objects.filter(patient=patient, resolved_at__isnull=True).first()
    followups = list(FollowUp.objects.filter(statement=statement)) if statement else []
    return {
        "coll_statement": statement,
        "coll_plan": plan,
        "coll_dispute": dispute,
        "coll_followups": followups,
        "plan_form": PlanForm(prefix="plan"),
        "plan_cancel_form": ReasonForm(prefix="plan-cancel"),
        "dispute_form": ReasonForm(prefix="dispute"),
        "resolve_form": ResolutionForm(prefix="resolve"),
    }
