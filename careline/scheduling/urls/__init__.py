"""Scheduling pages, mounted at /schedule/: calendar, appointments, free slots, waitlist, administration."""

from django.urls import include, path

from careline.scheduling.views import (
    admin,
    appointments,
    calendar,
    calendar_events,
    imports,
    visit_requests,
    waitlist,
)

app_name = "scheduling"

urlpatterns = [
    path("", calendar.calendar, name="calendar"),
    path("calendar/events", calendar_events.calendar_events, name="calendar_events"),
    path("calendar/appointments/<int:pk>/move", calendar_events.calendar_move, name="calendar_move"),
    path("slots", calendar.slot_search, name="slots"),
    path("book", appointments.appointment_book, name="book"),
    path("series", appointments.series_book, name="series"),
    path("appointments/<int:pk>", appointments.appointment_detail, name="appointment"),
    path("appointments/<int:pk>/move", appointments.appointment_move, name="move"),
    path("appointments/<int:pk>/cancel", appointments.appointment_cancel, name="cancel"),
    path("appointments/<int:pk>/status", appointments.appointment_status, name="status"),
    path("waitlist", waitlist.waitlist, name="waitlist"),
    path("waitlist/<int:pk>/remove", waitlist.waitlist_remove, name="waitlist_remove"),
    path("requests/", visit_requests.visit_request_list, name="visit_requests"),
    path(
        "requests/<int:pk>/decline", visit_requests.visit_request_decline_view, name="visit_request_decline"
    ),
    path("admin/types", admin.type_list, name="type_list"),
    path("admin/types/new", admin.type_edit, name="type_create"),
    path("admin/types/<int:pk>", admin.type_edit, name="type_edit"),
    path("admin/hours", admin.hours_list, name="hours_list"),
    path("admin/hours/<int:pk>", admin.hours_edit, name="hours_edit"),
    path("admin/hours/period/<int:pk>/delete", admin.hours_delete, name="hours_delete"),
    path("admin/time-off/<int:pk>/delete", admin.time_off_delete, name="time_off_delete"),
    path("import", imports.import_upload, name="import"),
    # Reminder rules and .ics files (S2).
    path("", include("careline.scheduling.urls.reminders")),
    # Reports (S3).
    path("", include("careline.scheduling.urls.reports")),
]
