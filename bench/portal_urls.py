"""Careline's URLs plus a trivial portal page: the portal's middleware and session, none of a page's work."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import path

from careline.portal.access import portal_view
from careline.urls import urlpatterns as careline_urlpatterns


@portal_view()
def portal_signed_in(request: HttpRequest) -> HttpResponse:
    """The baseline of the portal bench: a signed-in portal request that reads nothing and renders nothing."""
    return HttpResponse(f"<p>Signed in as {request.portal.account}</p>")  # type: ignore[attr-defined]


urlpatterns: list[Any] = [
    path("bench/portal-signed-in", portal_signed_in, name="bench_portal_signed_in"),
    *careline_urlpatterns,
]
