"""Routes of the care app (staff pages under /care/)."""

from django.urls import URLPattern, URLResolver, path

from careline.care import views
from careline.care.views import programs

app_name = "care"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.worklist, name="worklist"),
    path("alerts/<int:care_alert_pk>", views.alert_detail, name="alert"),
    path("alerts/<int:care_alert_pk>/trend", views.alert_trend, name="alert_trend"),
    path("alerts/<int:care_alert_pk>/acknowledge", views.alert_acknowledge_action, name="alert_acknowledge"),
    path("alerts/<int:care_alert_pk>/call", views.alert_call_action, name="alert_call"),
    path("alerts/<int:care_alert_pk>/resolve", views.alert_resolve_action, name="alert_resolve"),
    path("patients/<int:pk>/", views.patient_care, name="patient"),
    path("patients/<int:pk>/enrol", views.enrol, name="enrol"),
    path("patients/<int:pk>/readings/add", views.reading_add, name="reading_add"),
    path(
        "patients/<int:pk>/enrolments/<int:enrolment_pk>/end",
        views.enrolment_end_action,
        name="enrolment_end",
    ),
    path("enrol", programs.enrol_bulk, name="enrol_bulk"),
    path("programs/", programs.programs, name="programs"),
    path("programs/<int:program_pk>", programs.program_edit, name="program_edit"),
]
