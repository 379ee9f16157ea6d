"""Careline's URLs plus a trivial signed-in page: the same middleware and sign-in, none of a page's work."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import path

from careline.urls import urlpatterns as careline_urlpatterns


@login_required
def signed_in(request: HttpRequest) -> HttpResponse:
    """The baseline of the workspace bench: a signed-in request that reads nothing and renders nothing."""
    return HttpResponse(f"<p>Signed in as {request.user}</p>")


urlpatterns: list[Any] = [path("bench/signed-in", signed_in, name="bench_signed_in"), *careline_urlpatterns]
