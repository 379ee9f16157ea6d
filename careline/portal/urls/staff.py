"""Staff pages that manage the portal (namespace ``portal_admin``): access, FAQ, urgent words."""

from django.urls import URLPattern, URLResolver

app_name = "portal_admin"

urlpatterns: list[URLPattern | URLResolver] = []
