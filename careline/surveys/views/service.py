"""The Service report (Perm.REPORT_VIEW, one location one may see): the inbox's response and resolution
times, conversations per staff member, volume by hour and weekday and unanswered conversations, beside the
reminders' confirmation and no-show rates, survey scores and the sections other apps register (the portal's
adoption). Charts and CSV; reads audited."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from careline.core.audit import AuditAction, audit_record
from careline.core.csv_export import csv_writer
from careline.core.permissions import Perm, require_perm
from careline.scheduling.queries.appointments import locations_visible_to
from careline.scheduling.queries.reports import ReminderReport, rate, reminders_report
from careline.scheduling.report_sections import report_sections_for
from careline.surveys.charts import bar_chart
from careline.surveys.forms import ServiceFilterForm
from careline.surveys.queries.results import ScoreRow, survey_summary
from careline.surveys.queries.service import ServiceReport, service_report, weekday_rows
from careline.surveys.registration import REPORT_SECTION

FILTERS = ("start", "end", "location", "hours")


def _report(
    request: HttpRequest,
) -> tuple[ServiceFilterForm, ServiceReport | None, ReminderReport | None, list[ScoreRow]]:
    visible = locations_visible_to(request.user)
    data: dict[str, str] = {**ServiceFilterForm.defaults(90), "hours": "24"}
    first = visible.first()
    if first is not None:
        data["location"] = str(first.pk)
    data.update({k: str(v) for k, v in request.GET.items() if k in FILTERS and v})
    form = ServiceFilterForm(data, locations=visible)
    if not form.is_valid():
        return form, None, None, []
    clean = form.cleaned_data
    location = clean["location"]
    report = service_report(
        location=location, start=clean["start"], end=clean["end"], unanswered_hours=clean["hours"] or 24
    )
    reminders = reminders_report(
        locations=[location], start=clean["start"], end=clean["end"], zone=location.zone
    )
    surveys = survey_summary(location_ids=[location.pk], days=(clean["end"] - clean["start"]).days + 1)
    return form, report, reminders, surveys


def confirmation_rate(reminders: ReminderReport) -> float | None:
    return rate(reminders.confirmed, reminders.reminded)


def no_show_rate(reminders: ReminderReport) -> float | None:
    return rate(reminders.no_shows, reminders.reminded_outcomes + reminders.unreminded_outcomes)


@require_perm(Perm.REPORT_VIEW)
@require_GET
def service_page(request: HttpRequest) -> HttpResponse:
    """The Service report page."""
    form, report, reminders, surveys = _report(request)
    context: dict[str, Any] = {
        "nav": "reports",
        "form": form,
        "report": report,
        "query": request.GET.urlencode(),
    }
    if report is not None and reminders is not None:
        audit_record(
            action=AuditAction.VIEW, request=request, object_type="report.service",
            detail=f"service report {report.start}..{report.end}, location {report.location.pk}",
        )  # fmt: skip
        context.update(
            reminders=reminders,
            confirmation_rate=confirmation_rate(reminders),
            no_show_rate=no_show_rate(reminders),
            surveys=surveys,
            weekdays=weekday_rows(report),
            hour_chart=bar_chart(
                [(f"{h:02d}", n) for h, n in enumerate(report.by_hour)],
                title="Patients' texts by hour of day",
                description="Texts from patients by local hour of day; the same figures are in the table below.",
            ),
            weekday_chart=bar_chart(
                [(name[:3], n) for name, n in weekday_rows(report)],
                title="Patients' texts by day of week",
                description="Texts from patients by day of week; the same figures are in the table below.",
            ),
            report_sections=[
                s for s in report_sections_for(request.user, [report.location]) if s.code != REPORT_SECTION
            ],
        )
    return render(request, "surveys/service.html", context, status=200 if report else 400)


@require_perm(Perm.REPORT_VIEW)
@require_GET
def service_csv(request: HttpRequest) -> HttpResponse:
    """The Service report's figures as CSV."""
    form, report, reminders, surveys = _report(request)
    if report is None or reminders is None:
        errors = "; ".join(str(e) for errs in form.errors.values() for e in errs)
        return HttpResponse(f"Bad filters: {errors}", status=400, content_type="text/plain; charset=utf-8")
    audit_record(
        action=AuditAction.EXPORT, request=request, object_type="report.service",
        detail=f"service report {report.start}..{report.end}, location {report.location.pk}",
    )  # fmt: skip
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="service-{report.start}-{report.end}.csv"'
    writer = csv_writer(response)
    writer.writerow(["Measure", "Count", "Median (minutes, opening hours)", "90th percentile (minutes)"])
    for name, timing in (("First response", report.first_response), ("Resolution", report.resolution)):
        writer.writerow([
            name, timing.count,
            "" if timing.median is None else round(timing.median / 60, 1),
            "" if timing.p90 is None else round(timing.p90 / 60, 1),
        ])  # fmt: skip
    writer.writerow(
        ["Unanswered conversations", report.unanswered_count, f"older than {report.unanswered_hours} h", ""]
    )
    writer.writerow(["Reminder confirmation rate %", confirmation_rate(reminders), "", ""])
    writer.writerow(["No-show rate %", no_show_rate(reminders), "", ""])
    for row in surveys:
        writer.writerow(
            [f"Survey ({row.label}) average", row.average, f"answered {row.answered} of {row.sent}", ""]
        )
    writer.writerow([])
    writer.writerow(["Staff member", "Conversations replied to", "Replies"])
    writer.writerows([[s["name"], s["conversations"], s["replies"]] for s in report.per_staff])
    writer.writerow([])
    writer.writerow(["Hour of day", "Patients' texts"])
    writer.writerows([[f"{h:02d}:00", n] for h, n in enumerate(report.by_hour)])
    writer.writerow([])
    writer.writerow(["Day of week", "Patients' texts"])
    writer.writerows(weekday_rows(report))
    return response
