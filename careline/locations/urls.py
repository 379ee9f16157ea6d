from django.urls import path

app_name = "locations"

urlpatterns: list = []
