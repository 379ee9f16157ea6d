"""Checks for /healthz: the Celery broker, and checks other apps register (core knows no domain)."""

from __future__ import annotations

import os
from collections.abc import Callable

from django.conf import settings
from kombu import Connection

HealthCheck = Callable[[], dict[str, str]]
_checks: dict[str, HealthCheck] = {}


def register_health_check(name: str, check: HealthCheck) -> None:
    """Add CHECK to /healthz under NAME; it answers {"status": "ok" | "error", ...} (no secrets)."""
    _checks[name] = check


def registered_checks() -> dict[str, dict[str, str]]:
    """The result of every registered check; one that raises reports its exception's name."""
    results: dict[str, dict[str, str]] = {}
    for name, check in _checks.items():
        try:
            results[name] = check()
        except Exception as exc:  # noqa: BLE001 - any failure of a check means unhealthy
            results[name] = {"status": "error", "error": type(exc).__name__}
    return results


def broker_status(url: str) -> dict[str, str]:
    """Whether the broker at URL accepts a connection within two seconds."""
    transport = url.split("://", 1)[0]
    if transport == "filesystem":
        folder = str(settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("data_folder_in", ""))
        if folder and os.path.isdir(folder) and os.access(folder, os.W_OK):
            return {"status": "ok", "transport": transport}
        return {"status": "error", "transport": transport, "error": "broker folder missing or read-only"}
    try:
        with Connection(url, connect_timeout=2, transport_options={"max_retries": 0}) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return {"status": "ok", "transport": transport}
    except Exception as exc:  # noqa: BLE001 - any failure to connect means unhealthy
        return {"status": "error", "transport": transport, "error": type(exc).__name__}
