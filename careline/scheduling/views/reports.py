"""The reminders report (Perm.REPORT_VIEW): totals for a date range and location, a weekly no-show chart, CSV."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from careline.core.audit import AuditAction, audit_record
from careline.core.csv_export import csv_writer
from careline.core.dates import BoundedDateField
from careline.core.permissions import Perm, require_perm
from careline.locations.models import Location
from careline.scheduling.queries.appointments import locations_visible_to
from careline.scheduling.queries.reports import (
    CHART_BOTTOM,
    CHART_HEIGHT,
    CHART_LEFT,
    CHART_TOP,
    CHART_WIDTH,
    MAX_REPORT_DAYS,
    ReminderReport,
    chart_bars,
    reminders_report,
)
from careline.scheduling.report_sections import report_sections_for

DEFAULT_WEEKS = 8


class ReminderReportForm(forms.Form):
    """The report's filters; every location the person may see when none is chosen."""

    start = BoundedDateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = BoundedDateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))
    location = forms.ModelChoiceField(
        queryset=Location.objects.none(), required=False, empty_label="All my locations", label="Location"
    )

    def __init__(self, *args: Any, locations: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = locations  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError("The end date is before the start date.")
            if (end - start).days >= MAX_REPORT_DAYS:
                raise forms.ValidationError(f"Choose at most {MAX_REPORT_DAYS} days.")
        return data


def _report(
    request: HttpRequest,
) -> tuple[ReminderReportForm, ReminderReport | None, Location | None, list[Location]]:
    visible = locations_visible_to(request.user)
    today = timezone.localdate()
    defaults = {"start": (today - timedelta(weeks=DEFAULT_WEEKS)).isoformat(), "end": today.isoformat()}
    data = {**defaults, **{k: v for k, v in request.GET.items() if k in ("start", "end", "location") and v}}
    form = ReminderReportForm(data, locations=visible)
    if not form.is_valid():
        return form, None, None, []
    location: Location | None = form.cleaned_data["location"]
    chosen = [location] if location is not None else list(visible)
    zone = (location or (chosen[0] if chosen else None) or Location(time_zone="UTC")).zone
    start: date = form.cleaned_data["start"]
    end: date = form.cleaned_data["end"]
    return form, reminders_report(locations=chosen, start=start, end=end, zone=zone), location, chosen


@require_perm(Perm.REPORT_VIEW)
@require_GET
def reminders_report_page(request: HttpRequest) -> HttpResponse:
    """Reminders and replies against attendance for a range and location, with a weekly no-show chart."""
    form, report, location, covered = _report(request)
    bars, top = chart_bars(report.weeks) if report else ([], 10)
    plot_bottom = CHART_HEIGHT - CHART_BOTTOM
    context = {
        "nav": "reports", "form": form, "report": report, "location": location, "bars": bars,
        "chart": {"width": CHART_WIDTH, "height": CHART_HEIGHT, "left": CHART_LEFT, "top": CHART_TOP,
                  "bottom": plot_bottom, "scale_top": top, "mid": (CHART_TOP + plot_bottom) / 2,
                  "scale_mid": top / 2},
        "query": request.GET.urlencode(),
        "report_sections": report_sections_for(request.user, covered) if report else [],
    }  # fmt: skip
    return render(request, "scheduling/reports_reminders.html", context, status=200 if report else 400)


@require_perm(Perm.REPORT_VIEW)
@require_GET
def reminders_report_csv(request: HttpRequest) -> HttpResponse:
    """The report's table and weekly rates as CSV."""
    form, report, location, _ = _report(request)
    if report is None:
        errors = "; ".join(str(e) for errs in form.errors.values() for e in errs)
        return HttpResponse(f"Bad filters: {errors}", status=400, content_type="text/plain; charset=utf-8")
    audit_record(
        action=AuditAction.EXPORT,
        request=request,
        object_type="report.reminders",
        detail=f"reminders report {report.start}..{report.end}, location {location.pk if location else 'all'}",
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="reminders-{report.start}-{report.end}.csv"'
    writer = csv_writer(response)
    writer.writerow(["Measure", "Value"])
    writer.writerows(report.rows())
    writer.writerow([])
    writer.writerow(["Week starting", "Visits with an outcome", "No-shows", "No-show rate"])
    for week in report.weeks:
        writer.writerow(
            [
                week.week.isoformat(),
                week.outcomes,
                week.no_shows,
                "" if week.rate is None else f"{week.rate:.1f}%",
            ]
        )
    return response
