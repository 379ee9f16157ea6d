"""The audit trail pages (mounted at /audit/)."""

from django.urls import path

from careline.core.views import audit as audit_views

app_name = "audit"

urlpatterns = [
    path("", audit_views.audit_list, name="list"),
    path("export.csv", audit_views.audit_export, name="export"),
]
