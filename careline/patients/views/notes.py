"""Care notes and alerts (being built)."""

from django.http import HttpRequest, HttpResponse


def note_list(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse("under construction", status=501)

def note_create(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse("under construction", status=501)

def note_detail(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse("under construction", status=501)

def note_amend(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse("under construction", status=501)

def alert_create(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse("under construction", status=501)

def alert_remove(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse("under construction", status=501)
