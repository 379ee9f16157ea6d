"""CSV import (being built)."""

from django.http import HttpRequest, HttpResponse


def import_upload(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse("under construction", status=501)

def import_status(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse("under construction", status=501)
