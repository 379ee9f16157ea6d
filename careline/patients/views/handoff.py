"""Shift handoff (being built)."""

from django.http import HttpRequest, HttpResponse


def handoff(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse("under construction", status=501)
