"""Audit trail pages (being built)."""

from django.http import HttpRequest, HttpResponse


def audit_list(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse("under construction", status=501)
