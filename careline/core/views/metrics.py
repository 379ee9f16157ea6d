"""/metrics: Prometheus metrics for a scraper holding the bearer token, or a signed-in staff member allowed to."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from careline.core.metrics import metrics_text
from careline.core.permissions import Perm, has_perm


def _bearer_token_matches(request: HttpRequest) -> bool:
    expected = settings.CARELINE_METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if not expected or scheme.lower() != "bearer" or not given.strip():
        return False
    return secrets.compare_digest(given.strip().encode(), expected.encode())


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """The metrics text; 401 without the token or a sign-in, 403 for staff without the permission."""
    if not (_bearer_token_matches(request) or has_perm(request.user, Perm.METRICS_VIEW)):
        if request.user.is_authenticated:
            return HttpResponse("Not allowed.", status=403, content_type="text/plain; charset=utf-8")
        response = HttpResponse(
            "Authentication required.", status=401, content_type="text/plain; charset=utf-8"
        )
        response["WWW-Authenticate"] = 'Bearer realm="careline-metrics"'
        return response
    response = HttpResponse(metrics_text(), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
