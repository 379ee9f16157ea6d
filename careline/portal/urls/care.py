"""Portal routes: the care program (readings, check-ins)."""

from django.urls import URLPattern, URLResolver, path

from careline.portal.views import care

urlpatterns: list[URLPattern | URLResolver] = [
    path("care/", care.care, name="care"),
]
