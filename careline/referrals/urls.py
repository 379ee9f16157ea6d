"""Routes of the referrals app (staff pages under /referrals/)."""

from django.urls import URLPattern, URLResolver, path

from careline.referrals import views
from careline.referrals.views import directory

app_name = "referrals"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.worklist, name="worklist"),
    path("<int:referral_pk>", views.detail, name="detail"),
    path("<int:referral_pk>/state", views.state_change, name="state"),
    path("patients/<int:pk>/refer", views.refer, name="refer"),
    path("providers/", directory.providers, name="providers"),
    path("providers/new", directory.provider_edit, name="provider_create"),
    path("providers/<int:provider_pk>", directory.provider_edit, name="provider_edit"),
]
