"""Patient registry pages (being built)."""

from django.http import HttpRequest, HttpResponse


def patient_list(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse("under construction", status=501)

def patient_create(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse("under construction", status=501)

def patient_detail(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse("under construction", status=501)

def patient_edit(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse("under construction", status=501)

def patient_phones(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse("under construction", status=501)

def patient_preferences(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse("under construction", status=501)

def patient_consent(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse("under construction", status=501)

def caregiver_create(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse("under construction", status=501)

def caregiver_edit(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse("under construction", status=501)
