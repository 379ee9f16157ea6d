"""Top-level URL routes: each app owns its own urls.py."""

from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from careline.api import api
from careline.billing.providers import PAYMENT_PROVIDERS
from careline.core.views.health import healthz
from careline.core.views.metrics import metrics
from careline.core.views.nav import nav_badge
from careline.messaging.channels import CHANNEL_TYPES

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),  # Prometheus; the bearer token or metrics.view
    # Browsers ask for /favicon.ico whatever the page links; send them to the SVG icon instead of a 404.
    path(
        "favicon.ico",
        RedirectView.as_view(
            url=lazy(static, str)("careline/favicon.svg"), http_method_names=["get", "head"]
        ),
        name="favicon",
    ),
    path("nav/badge", nav_badge, name="nav_badge"),
    path("api/v1/", api.urls),
    path("accounts/", include("careline.accounts.urls")),
    path("locations/", include("careline.locations.urls")),
    path("audit/", include("careline.core.urls")),
    path("inbox/", include("careline.messaging.urls")),
    path("simulator", RedirectView.as_view(pattern_name="messaging:simulator", query_string=True)),
    CHANNEL_TYPES.url_resolver("webhooks/"),  # each installed type's webhooks under /webhooks/<code>/
    path("schedule/", include("careline.scheduling.urls")),
    path("on-call/", include("careline.oncall.urls")),
    path("records/", include("careline.records.urls")),
    # each installed payment provider's pages and webhooks under /billing/providers/<code>/
    PAYMENT_PROVIDERS.url_resolver("billing/providers/"),
    path("care/", include("careline.care.urls")),
    path("referrals/", include("careline.referrals.urls")),
    path("billing/", include("careline.billing.urls")),
    path("outreach/", include("careline.outreach.urls")),
    path("surveys/", include("careline.surveys.urls")),
    path("pay/", include("careline.billing.urls.pay")),  # a statement's pay link (paylinks.PAY_PATH_PREFIX)
    path("education/", include("careline.education.urls")),
    path("learn/", include("careline.education.urls.public")),  # a texted education link (signed)
    path("training/", include("careline.training.urls")),
    path("portal/", include("careline.portal.urls")),
    path("portal-admin/", include("careline.portal.urls.staff")),
    path("", include("careline.patients.urls")),
]
