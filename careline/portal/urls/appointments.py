"""Portal routes: appointments (the patient's visits, confirm, cancel, reschedule, calendar file, visit requests)."""

from django.urls import URLPattern, URLResolver, path

from careline.portal.views import appointments

urlpatterns: list[URLPattern | URLResolver] = [
    path("appointments/", appointments.appointment_list, name="appointments"),
    path("appointments/<int:pk>/", appointments.appointment_detail, name="appointment"),
    path("appointments/<int:pk>/confirm", appointments.appointment_confirm, name="appointment_confirm"),
    path("appointments/<int:pk>/cancel", appointments.appointment_cancel, name="appointment_cancel"),
    path(
        "appointments/<int:pk>/reschedule", appointments.appointment_reschedule, name="appointment_reschedule"
    ),
    path("appointments/<int:pk>/visit.ics", appointments.appointment_ics, name="appointment_ics"),
    path("appointments/request", appointments.visit_request_new, name="visit_request"),
    path(
        "appointments/requests/<int:pk>/withdraw",
        appointments.visit_request_withdraw_view,
        name="visit_request_withdraw",
    ),
]
