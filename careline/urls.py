"""Top-level URL routes: each app owns its own urls.py."""

from django.urls import include, path

from careline.api import api
from careline.core.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("accounts/", include("careline.accounts.urls")),
    path("locations/", include("careline.locations.urls")),
    path("audit/", include("careline.core.urls")),
    path("inbox/", include("careline.messaging.urls")),
    path("webhooks/", include("careline.messaging.webhook_urls")),
    path("", include("careline.patients.urls")),
]
