"""The audit trail pages: search the trail and export what was found. Read-only: no page changes an entry."""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from careline.core.audit import AuditAction, audit_read_coalesced, audit_record
from careline.core.csv_export import csv_lines
from careline.core.forms.audit import AuditFilterForm
from careline.core.paging import paginate
from careline.core.permissions import Perm, require_perm
from careline.core.queries.audit import AuditFilters, audit_csv_rows, audit_entries
from careline.core.queries.audit_lines import audit_lines, audit_summaries

PAGE_SIZE = 50
AUDIT_OBJECT_TYPE = "core.auditentry"


def _filters_from(request: HttpRequest) -> tuple[AuditFilterForm, AuditFilters | None]:
    """The bound filter form and, when it is valid, its filters."""
    form = AuditFilterForm(request.GET or None)
    if not request.GET:
        return form, AuditFilters()
    return form, form.filters() if form.is_valid() else None


@require_GET
@require_perm(Perm.AUDIT_VIEW)
def audit_list(request: HttpRequest) -> HttpResponse:
    """The trail, newest first, in plain language, filtered by patient, staff member, kind of actor, action,
    dates, object type and channel. Reading it is itself on the trail."""
    form, filters = _filters_from(request)
    page = beyond = None
    if filters is not None:
        page, beyond = paginate(audit_entries(filters), PAGE_SIZE, request.GET.get("page"))
        if page is not None:
            entries: list[Any] = list(page.object_list)
            lines = audit_lines(entries)
            for entry in entries:
                entry.line = lines[entry.pk]
            page.object_list = entries
        # The same filters read again within minutes (paging, HTMX refreshes) are one entry.
        audit_read_coalesced(
            request=request, object_type=AUDIT_OBJECT_TYPE, detail=f"audit trail: {filters.describe()}"
        )
    query = {key: value for key, value in request.GET.items() if key != "page" and value}
    context = {
        "nav": "audit",
        "form": form,
        "page": page,
        "beyond": beyond,
        "query": urlencode(query),
        "zone": timezone.get_current_timezone_name(),
    }
    # The whole page also answers HTMX (which picks out <main>), so filter errors show next to their fields.
    return render(request, "core/audit_list.html", context)


@require_GET
@require_perm(Perm.AUDIT_VIEW)
def audit_export(request: HttpRequest) -> HttpResponse:
    """The filtered trail as CSV, streamed; the export itself is recorded in the trail."""
    form, filters = _filters_from(request)
    if filters is None:
        return render(
            request,
            "core/audit_list.html",
            {"nav": "audit", "form": form, "page": None, "beyond": None, "query": ""},
            status=400,
        )
    audit_record(
        request=request, action=AuditAction.EXPORT, object_type=AUDIT_OBJECT_TYPE, detail=filters.describe()
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(
        csv_lines(audit_csv_rows(audit_entries(filters), summaries=audit_summaries)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="careline-audit-{stamp}.csv"'
    # require_perm types views as returning HttpResponse; a streaming response serves the same purpose.
    return cast(HttpResponse, response)
