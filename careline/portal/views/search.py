"""The portal's search: the open record's appointments, messages, records, results and documents."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from careline.core.audit import AuditAction, audit_record
from careline.portal.access import PortalSession, portal_view
from careline.portal.search import MAX_QUERY_CHARS, portal_search, search_words


class PortalSearchForm(forms.Form):
    q = forms.CharField(label=_("Search your record"), max_length=MAX_QUERY_CHARS, strip=True)

    def clean_q(self) -> str:
        query = str(self.cleaned_data["q"])
        if not search_words(query):
            raise forms.ValidationError(_("Type at least one word of two letters or more."))
        return query


@require_http_methods(["GET", "POST"])
@portal_view()
def search(request: HttpRequest) -> HttpResponse:
    """Search the open record. The words travel in the body of a POST, never in the address (or its logs)."""
    session: PortalSession = request.portal  # type: ignore[attr-defined]
    form = PortalSearchForm(request.POST if request.method == "POST" else None)
    found = None
    if form.is_valid():
        found = portal_search(session, form.cleaned_data["q"])
        audit_record(
            actor=session.actor,
            action=AuditAction.SEARCH,
            obj=session.patient,
            patient_id=session.patient.pk,
            detail=f"portal search: {sum(len(hits) for _, hits in found)} found",
        )
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(
        request, "portal/search.html", {"form": form, "found": found, "nav": "search"}, status=status
    )
