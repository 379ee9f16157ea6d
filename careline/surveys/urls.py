from django.urls import path

from careline.surveys.views import admin, answer, results, service

app_name = "surveys"

urlpatterns = [
    path("", results.results_page, name="results"),
    path("results.csv", results.results_csv, name="results_csv"),
    path("service/", service.service_page, name="service"),
    path("service.csv", service.service_csv, name="service_csv"),
    path("settings/", admin.settings_list, name="settings_list"),
    path("locations/<int:pk>/settings", admin.settings_edit, name="settings_edit"),
    path("answer", answer.answer_page, name="answer"),
]
