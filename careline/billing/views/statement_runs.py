"""The statement run pages: choose whose statements and their dates, preview who would get one and who is
skipped (counts only), start the run, follow its progress (HTMX), and the runs before it. For staff with
BILLING_CONFIGURE, scoped to their locations ("every location" only with PATIENT_VIEW_ALL_LOCATIONS)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from careline.billing.forms.runs import StatementRunForm
from careline.billing.models import RUN_STALE_AFTER, StatementRun, StatementRunState
from careline.billing.services.statement_runs import (
    statement_run_preview,
    statement_run_progress,
    statement_run_start,
)
from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.core.permissions import Perm, has_perm, require_perm
from careline.locations.models import Location

HISTORY = 20


def _everywhere(request: HttpRequest) -> bool:
    return has_perm(request.user, Perm.PATIENT_VIEW_ALL_LOCATIONS)


def _locations(request: HttpRequest) -> list[Location]:
    locations = Location.objects.order_by("name")
    if not _everywhere(request):
        locations = locations.filter(pk__in=request.user.location_ids)  # type: ignore[union-attr]
    return list(locations)


def _runs(request: HttpRequest) -> QuerySet[StatementRun]:
    runs = StatementRun.objects.select_related("location", "created_by").order_by("-created_at", "-pk")
    if _everywhere(request):
        return runs
    return runs.filter(Q(location_id__in=request.user.location_ids))  # type: ignore[union-attr]


def _form(request: HttpRequest, data: Any = None) -> StatementRunForm:
    return StatementRunForm(data, locations=_locations(request), everywhere=_everywhere(request))


@require_perm(Perm.BILLING_CONFIGURE)
@require_http_methods(["GET", "POST"])
def statement_runs(request: HttpRequest) -> HttpResponse:
    """GET: the form (with the preview's counts once asked); POST: start the run and follow it."""
    preview = None
    if request.method == "POST":
        form = _form(request, request.POST)
        if form.is_valid():
            try:
                run = statement_run_start(
                    actor=Actor.from_request(request),
                    statement_date=form.cleaned_data["statement_date"],
                    due_date=form.cleaned_data["due_date"],
                    location=form.chosen_location(),
                )
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, "The statement run has started.")
                return redirect("billing:statement_run", pk=run.pk)
    elif "preview" in request.GET:
        form = _form(request, request.GET)
        if form.is_valid():
            preview = statement_run_preview(
                location=form.chosen_location(), statement_date=form.cleaned_data["statement_date"]
            )
            where = form.chosen_location()
            audit_record(
                actor=Actor.from_request(request), action=AuditAction.VIEW, obj=where,
                detail=f"statement run preview for {form.cleaned_data['statement_date']}: counts only",
            )  # fmt: skip
    else:
        form = _form(request)
    context = {"nav": "billing", "form": form, "preview": preview, "runs": list(_runs(request)[:HISTORY])}
    return render(request, "billing/runs/start.html", context, status=400 if form.errors else 200)


@require_perm(Perm.BILLING_CONFIGURE)
@require_http_methods(["GET"])
def statement_run(request: HttpRequest, pk: int) -> HttpResponse:
    """A run's progress (HTMX polls return only the panel) and its outcome."""
    run = get_object_or_404(_runs(request), pk=pk)
    progress = statement_run_progress(run)
    stale = (
        run.state == StatementRunState.RUNNING
        and run.heartbeat_at is not None
        and run.heartbeat_at < timezone.now() - RUN_STALE_AFTER
    )
    context = {
        "nav": "billing",
        "run": run,
        "progress": progress,
        "finished": run.state in (StatementRunState.DONE, StatementRunState.FAILED),
        "interrupted": stale,
    }
    if getattr(request, "htmx", False):
        return render(request, "billing/runs/_progress.html", context)
    return render(request, "billing/runs/run.html", context)
