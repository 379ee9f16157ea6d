"""Staff routes of billing under /billing/ (namespace `billing`); the pay page is in pay.py (namespace `pay`)."""

from django.urls import path

from careline.billing.views import collections as collections_views
from careline.billing.views import guarantors as guarantor_views
from careline.billing.views import imports as views_imports
from careline.billing.views import ledger as views
from careline.billing.views import statement_runs as run_views
from careline.billing.views import statements

app_name = "billing"

urlpatterns = [
    path("patients/<int:pk>/", views.ledger, name="ledger"),
    path("patients/<int:pk>/payment", views.payment_take, name="payment_record"),
    path("patients/<int:pk>/adjustments", views.adjust, name="adjust"),
    path("patients/<int:pk>/statement", statements.statement_preview, name="statement_issue"),
    path("patients/<int:pk>/guarantor", guarantor_views.guarantor, name="guarantor"),
    path("payments/<int:pk>/refund", views.refund, name="refund"),
    path("payments/<int:pk>/receipt", views.receipt, name="receipt"),
    path(
        "payments/<int:pk>/overpayment", collections_views.overpayment_review_view, name="overpayment_review"
    ),
    path("appointments/<int:pk>/self-pay", views.self_pay, name="self_pay"),
    path("statements/<int:pk>/", statements.statement_detail, name="statement"),
    path("statements/<int:pk>/pdf", statements.statement_download, name="statement_pdf"),
    path("statements/<int:pk>/void", statements.statement_void_view, name="statement_void"),
    path("statements/<int:pk>/resend", statements.statement_resend, name="statement_resend"),
    path("statements/mail", statements.mail_batch, name="mail_batch"),
    path("charges/<int:pk>/void", views_imports.void, name="charge_void"),
    path("imports/", views_imports.import_upload, name="import"),
    path("imports/<int:pk>/", views_imports.import_preview, name="import_preview"),
    path("imports/<int:pk>/apply", views_imports.import_apply, name="import_apply"),
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
    path("statement-runs/", run_views.statement_runs, name="statement_runs"),
    path("statement-runs/<int:pk>/", run_views.statement_run, name="statement_run"),
]
