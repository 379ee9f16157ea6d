"""Health check and the audit trail pages."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from careline.core.health import broker_status, registered_checks


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database, the broker and every registered check are fine, 503 otherwise; JSON says which."""
    checks: dict[str, dict[str, str]] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = {"status": "ok", "vendor": connection.vendor}
    except Exception as exc:  # noqa: BLE001 - any database failure means unhealthy
        checks["database"] = {"status": "error", "error": type(exc).__name__}
    checks["broker"] = broker_status(settings.CELERY_BROKER_URL)
    if checks["database"]["status"] == "ok":
        checks.update(registered_checks())  # they read the database
    healthy = all(check["status"] == "ok" for check in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503
    )
