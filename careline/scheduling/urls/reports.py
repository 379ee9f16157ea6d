"""Report routes, included by careline/scheduling/urls/__init__.py (namespace "scheduling")."""

from django.urls import path

from careline.scheduling.views import reports

urlpatterns = [
    path("reports/reminders", reports.reminders_report_page, name="reminders_report"),
    path("reports/reminders.csv", reports.reminders_report_csv, name="reminders_report_csv"),
]
