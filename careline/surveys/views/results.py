"""Survey results (Perm.REPORT_VIEW, at the locations one may see): figures by month, clinician, type and
channel, with charts, comments and a CSV. Every read is audited (the comments are patients' words)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from careline.accounts.models import User
from careline.core.audit import AuditAction, audit_record
from careline.core.csv_export import csv_writer
from careline.core.permissions import Perm, require_perm
from careline.locations.models import Location
from careline.scheduling.models import AppointmentType
from careline.scheduling.queries.appointments import locations_visible_to
from careline.surveys.charts import bar_chart
from careline.surveys.forms import ResultsFilterForm
from careline.surveys.models import Scale, SurveyRequest
from careline.surveys.queries.results import ScoreRow, SurveyResults, survey_results

FILTERS = ("start", "end", "location", "clinician", "visit_type")


def _results(request: HttpRequest) -> tuple[ResultsFilterForm, SurveyResults | None, str]:
    visible = locations_visible_to(request.user)
    clinician_ids = SurveyRequest.objects.filter(location__in=visible).values("clinician_id").distinct()
    form = ResultsFilterForm(
        {**ResultsFilterForm.defaults(365), **{k: v for k, v in request.GET.items() if k in FILTERS and v}},
        locations=visible,
        clinicians=User.objects.filter(pk__in=clinician_ids).order_by("full_name"),
        types=AppointmentType.objects.order_by("name"),
    )
    if not form.is_valid():
        return form, None, ""
    data = form.cleaned_data
    location: Location | None = data["location"]
    chosen = [location] if location is not None else list(visible)
    zone = (location or (chosen[0] if chosen else None) or Location(time_zone="UTC")).zone
    results = survey_results(
        location_ids=[loc.pk for loc in chosen], start=data["start"], end=data["end"], zone=zone,
        clinician_id=data["clinician"], appointment_type_id=data["visit_type"],
    )  # fmt: skip
    detail = (
        f"survey results {data['start']}..{data['end']}, location {location.pk if location else 'all'}, "
        f"clinician {data['clinician'] or 'all'}, type {data['visit_type'] or 'all'}"
    )
    return form, results, detail


def _charts(results: SurveyResults) -> list[dict[str, Any]]:
    charts = []
    for scale, label in Scale.choices:
        months = [row for row in results.by_month if row.scale == scale]
        if not months:
            continue
        top = 5.0 if scale == Scale.CSAT else 10.0
        charts.append(
            {
                "id": f"chart-{scale}",
                "chart": bar_chart(
                    [(row.label, row.average) for row in months],
                    title=f"Average score by month: {label}",
                    description=f"Average score by month ({label}); the same figures are in the table below.",
                    top=top,
                ),
            }
        )
    return charts


@require_perm(Perm.REPORT_VIEW)
@require_GET
def results_page(request: HttpRequest) -> HttpResponse:
    """The results page: filters, totals by scale and channel, monthly chart, clinicians, types, comments."""
    form, results, detail = _results(request)
    if results is not None:
        audit_record(action=AuditAction.VIEW, request=request, object_type="report.surveys", detail=detail)
    context = {
        "nav": "reports", "form": form, "results": results, "charts": _charts(results) if results else [],
        "query": request.GET.urlencode(),
    }  # fmt: skip
    return render(request, "surveys/results.html", context, status=200 if results else 400)


def _csv_rows(title: str, rows: list[ScoreRow]) -> list[list[Any]]:
    out: list[list[Any]] = [[title, "Scale", "Sent", "Answered", "Response rate %", "Average", "Headline"]]
    for row in rows:
        out.append(
            [row.label, row.scale, row.sent, row.answered, row.response_rate, row.average, row.headline]
        )
    return [*out, []]


@require_perm(Perm.REPORT_VIEW)
@require_GET
def results_csv(request: HttpRequest) -> HttpResponse:
    """The results as CSV: each table, then the comments."""
    form, results, detail = _results(request)
    if results is None:
        errors = "; ".join(str(e) for errs in form.errors.values() for e in errs)
        return HttpResponse(f"Bad filters: {errors}", status=400, content_type="text/plain; charset=utf-8")
    audit_record(action=AuditAction.EXPORT, request=request, object_type="report.surveys", detail=detail)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="surveys-{results.start}-{results.end}.csv"'
    writer = csv_writer(response)
    for title, rows in (
        ("Scale", results.totals), ("Channel", results.by_channel), ("Month", results.by_month),
        ("Clinician", results.by_clinician), ("Appointment type", results.by_type),
    ):  # fmt: skip
        writer.writerows(_csv_rows(title, rows))
    writer.writerow(["Answered at", "Location", "Clinician", "Appointment type", "Score", "Comment"])
    for comment in results.comments:
        writer.writerow(
            [comment["answered_at"].isoformat() if comment["answered_at"] else "", comment["location__name"],
             comment["clinician__full_name"], comment["appointment_type__name"], comment["score"], comment["comment"]]
        )  # fmt: skip
    return response
