"""The portal's Care page: the patient's care programs, the check-in waiting, entering readings (the same
parsing, questioning, thresholds, alerts and on-call paging as a texted reading: care's services), and the
patient's own readings with a chart of each measure.

Only the open record, only with the care section (a caregiver needs it granted); every read audited with the
portal actor (the patient, or the caregiver on the patient's behalf).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib import messages as flash
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from careline.care.measures import Measure
from careline.care.models import Enrolment, Reading
from careline.care.queries import readings_for
from careline.care.services.portal_readings import (
    PortalEntry,
    portal_checkins_due,
    portal_enrolments,
    portal_readings_record,
)
from careline.core.audit import AuditAction, audit_record
from careline.portal.access import PortalSession, portal_language, portal_view
from careline.portal.forms.care import PortalReadingsForm, measure_label, source_label
from careline.portal.models import PortalSection
from careline.portal.trend_chart import trend_chart_svg
from careline.records.queries import TrendPoint

HISTORY_DAYS = 90


def _session(request: HttpRequest) -> PortalSession:
    return request.portal  # type: ignore[attr-defined]


def _chosen_enrolment(request: HttpRequest, enrolments: list[Enrolment]) -> Enrolment:
    """The enrolment a POST names, among the open record's active ones (else the portal's 404)."""
    raw = request.POST.get("enrolment", "")
    found = next((e for e in enrolments if raw.isdigit() and e.pk == int(raw)), None)
    if found is None:
        raise Http404("not an enrolment of this record")
    return found


def _charts(readings: list[Reading]) -> list[dict[str, Any]]:
    """One chart per numeric measure with two readings or more (blood pressure: the top number)."""
    by_measure: dict[str, list[Reading]] = defaultdict(list)
    for reading in readings:
        if reading.measure != Measure.SYMPTOM:
            by_measure[reading.measure].append(reading)
    charts = []
    for measure in Measure.values:
        rows = by_measure.get(measure, [])
        if len(rows) < 2:
            continue
        points = [
            TrendPoint(
                result_id=r.pk,
                collected_at=r.taken_at,
                value=r.shown,
                number=r.value,
                unit=r.unit,
                low=None,
                high=None,
                flag="normal",
            )
            for r in rows
        ]
        label = str(measure_label(measure))
        charts.append({"label": label, "svg": trend_chart_svg(points, test_name=label, unit=rows[0].unit)})
    return charts


@portal_view(section=PortalSection.CARE)
@require_http_methods(["GET", "POST"])
def care(request: HttpRequest) -> HttpResponse:
    """The open record's care programs, check-ins waiting, readings (POST: enter them) and history."""
    session = _session(request)
    patient = session.patient
    language = portal_language(request)
    enrolments = portal_enrolments(patient)
    forms = {e.pk: PortalReadingsForm(enrolment=e, language=language, prefix=f"e{e.pk}") for e in enrolments}
    entry: PortalEntry | None = None
    status = 200
    if request.method == "POST":
        enrolment = _chosen_enrolment(request, enrolments)
        form = PortalReadingsForm(
            request.POST, enrolment=enrolment, language=language, prefix=f"e{enrolment.pk}"
        )
        forms[enrolment.pk] = form
        if form.is_valid():
            entry = portal_readings_record(
                enrolment=enrolment, answers=form.answers(), actor=session.actor, language=language
            )
            for key, problem in entry.problems.items():
                form.add_error(key or None, problem)
        if entry is None or not entry.stored:
            status = 400
        elif not entry.critical:
            flash.success(request, entry.confirmation)
            return HttpResponseRedirect(reverse("portal:care") + "#history")
    readings = readings_for(patient.pk, days=HISTORY_DAYS)
    audit_record(
        actor=session.actor,
        action=AuditAction.VIEW,
        object_type="care.reading",
        patient_id=patient.pk,
        detail=f"portal care readings: {len(readings)} shown",
    )
    context = {
        "nav": "care",
        "enrolments": [(e, forms[e.pk]) for e in enrolments],
        "due": portal_checkins_due(patient),
        "entry": entry,
        "history": [
            {"reading": r, "measure": measure_label(r.measure), "source": source_label(r.source)}
            for r in reversed(readings)
        ],
        "charts": _charts(readings),
    }
    return render(request, "portal/care/care.html", context, status=status)
