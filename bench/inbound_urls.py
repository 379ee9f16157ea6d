"""Careline's URLs plus a bare view: the same server and middleware, none of the webhook's work."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from careline.urls import urlpatterns as careline_urlpatterns


@csrf_exempt
def bare(request: HttpRequest) -> HttpResponse:
    """Answer at once, like an empty TwiML reply, without reading the database."""
    return HttpResponse('<?xml version="1.0" encoding="UTF-8"?><Response/>', content_type="text/xml")


urlpatterns: list[Any] = [path("bench/bare", bare), *careline_urlpatterns]
