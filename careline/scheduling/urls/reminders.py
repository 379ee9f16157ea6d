"""Reminder routes, included by careline/scheduling/urls/__init__.py (namespace "scheduling")."""

from django.urls import path

from careline.scheduling.views import reminders

urlpatterns = [
    path("reminder-rules/", reminders.reminder_rule_list, name="reminder_rule_list"),
    path("reminder-rules/new", reminders.reminder_rule_create, name="reminder_rule_create"),
    path("reminder-rules/<int:pk>/", reminders.reminder_rule_edit, name="reminder_rule_edit"),
    path(
        "reminder-rules/<int:pk>/deactivate",
        reminders.reminder_rule_deactivate_view,
        name="reminder_rule_deactivate",
    ),
    path("reminder-rules/replans/<int:pk>", reminders.reminder_replan_status, name="reminder_replan_status"),
    path("ics/<str:token>.ics", reminders.appointment_ics, name="appointment_ics"),
]
