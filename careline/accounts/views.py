"""Sign-in and staff administration (being built)."""

from django.http import HttpRequest, HttpResponse


def login_view(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse("under construction", status=501)

def logout_view(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse("under construction", status=501)

def mfa_verify(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse("under construction", status=501)

def mfa_setup(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse("under construction", status=501)

def profile(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse("under construction", status=501)

def staff_list(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse("under construction", status=501)
