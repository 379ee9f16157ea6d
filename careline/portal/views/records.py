"""The portal's Records and Results: read-only, the open record only, every read audited with the portal actor.

Records show allergies, medications, problems, immunizations, visit summaries and documents (never care
notes, never entries marked entered in error). Results show released results only, newest first, flags in
words; a result's page has the test's trend (a server-drawn SVG and the same values in a table).
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from careline.core.audit import AuditAction, audit_record
from careline.portal.access import PortalSession, portal_view
from careline.portal.models import PortalSection
from careline.portal.trend_chart import trend_chart_svg
from careline.records.models import Document, DocumentStatus
from careline.records.queries import records_for_patient, released_results_for_patient, result_trend
from careline.records.services.documents import document_download_name, document_read

RESULTS_PER_PAGE = 100


def _session(request: HttpRequest) -> PortalSession:
    return request.portal  # type: ignore[attr-defined]


@portal_view(section=PortalSection.RECORDS)
@require_GET
def records(request: HttpRequest) -> HttpResponse:
    """The open record's allergies, medications, problems, immunizations, visit summaries and documents."""
    session = _session(request)
    patient = session.patient
    record = records_for_patient(patient)
    audit_record(
        actor=session.actor,
        action=AuditAction.VIEW,
        obj=patient,
        patient_id=patient.pk,
        detail="portal records",
    )
    return render(request, "portal/records/records.html", {"record": record, "nav": "records"})


@portal_view(section=PortalSection.RECORDS)
@require_GET
def document(request: HttpRequest, key: str) -> HttpResponse:
    """A document of the open record by its unguessable key: a PDF attachment, never cached."""
    session = _session(request)
    found = get_object_or_404(
        Document, download_key=key, patient=session.patient, status=DocumentStatus.CURRENT
    )
    audit_record(
        actor=session.actor,
        action=AuditAction.VIEW,
        obj=found,
        patient_id=session.patient.pk,
        detail="portal document file",
    )
    try:
        data = document_read(found)
    except FileNotFoundError:
        raise Http404("the file is missing") from None
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{document_download_name(found)}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@portal_view(section=PortalSection.RESULTS)
@require_GET
def results(request: HttpRequest) -> HttpResponse:
    """The open record's released results, newest first."""
    session = _session(request)
    patient = session.patient
    shown = list(released_results_for_patient(patient)[:RESULTS_PER_PAGE])
    audit_record(
        actor=session.actor,
        action=AuditAction.VIEW,
        object_type="records.labresult",
        patient_id=patient.pk,
        detail=f"portal results: {len(shown)} shown",
    )
    return render(request, "portal/records/results.html", {"results": shown, "nav": "results"})


@portal_view(section=PortalSection.RESULTS)
@require_GET
def result(request: HttpRequest, pk: int) -> HttpResponse:
    """One released result of the open record, with the trend of its test when it was done more than once."""
    session = _session(request)
    patient = session.patient
    found = get_object_or_404(released_results_for_patient(patient), pk=pk)
    trend = result_trend(patient, found.test_code)
    audit_record(
        actor=session.actor, action=AuditAction.VIEW, obj=found, patient_id=patient.pk, detail="portal result"
    )
    context = {
        "result": found,
        "trend": trend if len(trend) > 1 else [],
        "chart": trend_chart_svg(trend, test_name=found.test_name, unit=found.unit),
        "nav": "results",
    }
    return render(request, "portal/records/result.html", context)
