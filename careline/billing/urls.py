"""Staff routes of billing under /billing/ (namespace `billing`)."""

from django.urls import path

from careline.billing import collections_views, views

app_name = "billing"

urlpatterns = [
    path("patients/<int:pk>/", views.ledger, name="ledger"),
    path("patients/<int:pk>/payment", views.payment_take, name="payment_record"),
    path("patients/<int:pk>/adjustments", views.adjust, name="adjust"),
    path("payments/<int:pk>/refund", views.refund, name="refund"),
    path("appointments/<int:pk>/self-pay", views.self_pay, name="self_pay"),
    path("worklist/", collections_views.worklist, name="worklist"),
    path("tasks/<int:pk>/assign", collections_views.task_assign_view, name="task_assign"),
    path("tasks/<int:pk>/note", collections_views.task_note_view, name="task_note"),
    path("tasks/<int:pk>/close", collections_views.task_close_view, name="task_close"),
    path("dashboard/", collections_views.dashboard, name="dashboard"),
    path("dashboard.csv", collections_views.dashboard_csv, name="dashboard_csv"),
    path("patients/<int:pk>/plan", collections_views.plan_create_view, name="plan_create"),
    path("plans/<int:pk>/cancel", collections_views.plan_cancel_view, name="plan_cancel"),
    path("patients/<int:pk>/dispute", collections_views.dispute_open_view, name="dispute_open"),
    path("disputes/<int:pk>/resolve", collections_views.dispute_resolve_view, name="dispute_resolve"),
    path("follow-up-steps/", collections_views.followup_steps, name="followup_steps"),
]
