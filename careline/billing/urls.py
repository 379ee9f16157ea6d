"""Staff routes of billing under /billing/ (namespace `billing`)."""

from django.urls import path

from careline.billing import views

app_name = "billing"

urlpatterns = [
    path("patients/<int:pk>/", views.ledger, name="ledger"),
    path("patients/<int:pk>/payment", views.payment_take, name="payment_record"),
    path("patients/<int:pk>/adjustments", views.adjust, name="adjust"),
    path("payments/<int:pk>/refund", views.refund, name="refund"),
    path("payments/<int:pk>/receipt", views.receipt, name="receipt"),
    path("appointments/<int:pk>/self-pay", views.self_pay, name="self_pay"),
]
