"""Staff routes of billing under /billing/ (namespace `billing`)."""

from django.urls import path

from careline.billing import views, views_imports

app_name = "billing"

urlpatterns = [
    path("patients/<int:pk>/", views.ledger, name="ledger"),
    path("patients/<int:pk>/payment", views.payment_take, name="payment_record"),
    path("patients/<int:pk>/adjustments", views.adjust, name="adjust"),
    path("payments/<int:pk>/refund", views.refund, name="refund"),
    path("appointments/<int:pk>/self-pay", views.self_pay, name="self_pay"),
    path("charges/<int:pk>/void", views_imports.void, name="charge_void"),
    path("imports/", views_imports.import_upload, name="import"),
    path("imports/<int:pk>/", views_imports.import_preview, name="import_preview"),
    path("imports/<int:pk>/apply", views_imports.import_apply, name="import_apply"),
]
