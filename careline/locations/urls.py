from django.urls import path

from careline.locations import views

app_name = "locations"

urlpatterns = [
    path("", views.location_list, name="list"),
    path("new", views.location_create, name="create"),
    path("<int:pk>/edit", views.location_edit, name="edit"),
]
