"""The audit trail pages (mounted at /audit/)."""

from django.urls import path

from careline.core.views import audit

app_name = "audit"

urlpatterns = [
    path("", audit.audit_list, name="list"),
    path("export.csv", audit.audit_export, name="export"),
]
