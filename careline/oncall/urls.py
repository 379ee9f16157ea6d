from django.urls import path

from careline.oncall import views

app_name = "oncall"

urlpatterns = [
    path("", views.rota, name="rota"),
    path("shifts/new", views.shift_create, name="shift_create"),
    path("shifts/<int:pk>", views.shift_edit, name="shift_edit"),
    path("shifts/<int:pk>/delete", views.shift_remove, name="shift_delete"),
    path("pages/", views.pages, name="pages"),
    path("pages/<int:pk>", views.page, name="page"),
    path("pages/<int:pk>/acknowledge", views.page_ack, name="page_acknowledge"),
]
