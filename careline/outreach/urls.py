from django.urls import path

from careline.outreach import views

app_name = "outreach"

urlpatterns = [
    path("", views.index, name="index"),
    path("audiences/new", views.audience_create, name="audience_create"),
    path("audiences/<int:pk>", views.audience, name="audience"),
    path("campaigns/<int:pk>", views.campaign, name="campaign"),
    path("campaigns/<int:pk>/cancel", views.campaign_cancel_view, name="campaign_cancel"),
    path("birthdays/<int:location_id>", views.birthdays, name="birthdays"),
]
