"""Routes of education's staff pages (under /education/)."""

from django.urls import URLPattern, URLResolver, path

from careline.education import views

app_name = "education"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.library, name="library"),
    path("items/new", views.item_edit, name="item_create"),
    path("items/<int:item_pk>", views.item_edit, name="item_edit"),
    path("patients/<int:pk>/send", views.send, name="send"),
    path("programs/", views.programs, name="programs"),
    path("programs/<int:program_pk>", views.program_items, name="program_items"),
]
