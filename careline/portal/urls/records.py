"""Portal routes: records and results."""

from django.urls import URLPattern, URLResolver, path

from careline.portal.views import records

urlpatterns: list[URLPattern | URLResolver] = [
    path("records/", records.records, name="records"),
    path("records/documents/<str:key>", records.document, name="document"),
    path("results/", records.results, name="results"),
    path("results/<int:pk>/", records.result, name="result"),
]
