"""Start-up checks (`manage.py check`, and every server and worker start): what cannot work across hosts.

Web and workers on separate hosts share only PostgreSQL, the broker and the uploads store. A folder under
var/ is none of those: a file the web host saved is not on the worker's disk. The rule:

- CARELINE_MULTI_HOST=true: an error (start-up refused) for uploads in a local folder, SQLite, or the
  folder broker.
- CARELINE_MULTI_HOST=auto (the default): a warning for uploads in a local folder when the database is
  PostgreSQL on another host and the broker is a network broker (Redis): the shape of a multi-host
  deployment. CARELINE_MULTI_HOST=false says every process runs on this one host and silences it.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register
from django.core.exceptions import ImproperlyConfigured

from careline.core.object_storage import storage_is_local

UPLOADS_FIX = (
    "Set CARELINE_STORAGE=s3 with CARELINE_S3_BUCKET (and CARELINE_S3_ENDPOINT_URL, CARELINE_S3_REGION, "
    "keys) so every host reads the same uploads; see the README, 'Deployment at scale'."
)


def _is_local_host(host: str) -> bool:
    """Whether HOST (a database HOST setting) is this machine: empty (a socket), localhost or loopback."""
    host = host.strip().strip("[]")
    if not host or host == "localhost" or host.startswith("/"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _looks_multi_host(databases: dict[str, Any], broker_url: str) -> bool:
    database = databases.get("default", {})
    postgres = "postgresql" in str(database.get("ENGINE", ""))
    return (
        postgres
        and not _is_local_host(str(database.get("HOST", "")))
        and not broker_url.startswith("filesystem://")
    )


def multi_host_messages(
    *, multi_host: str, storages: dict[str, Any], databases: dict[str, Any], broker_url: str
) -> list[CheckMessage]:
    """The errors or warnings for this configuration (pure: the check and its tests share it)."""
    local_uploads = storage_is_local(storages)
    if multi_host == "true":
        errors: list[CheckMessage] = []
        if local_uploads:
            errors.append(
                Error(
                    "CARELINE_MULTI_HOST=true but uploads are kept in a local folder (MEDIA_ROOT): a file "
                    "saved on one host could not be read on another.",
                    hint=UPLOADS_FIX,
                    id="careline.E001",
                )
            )
        if "sqlite" in str(databases.get("default", {}).get("ENGINE", "")):
            errors.append(
                Error(
                    "CARELINE_MULTI_HOST=true but the database is SQLite, a file on one host.",
                    hint="Set DATABASE_URL=postgres://… shared by every host.",
                    id="careline.E002",
                )
            )
        if broker_url.startswith("filesystem://"):
            errors.append(
                Error(
                    "CARELINE_MULTI_HOST=true but the task broker is the local folder broker.",
                    hint="Set CELERY_BROKER_URL=redis://… shared by every host.",
                    id="careline.E003",
                )
            )
        return errors
    if multi_host == "auto" and local_uploads and _looks_multi_host(databases, broker_url):
        return [
            Warning(
                "Uploads are kept in a local folder (MEDIA_ROOT) while the database and the broker are on "
                "other hosts: if web and workers run on separate hosts, files saved on one are missing on "
                "the other.",
                hint=UPLOADS_FIX + " If every process runs on this one host, set CARELINE_MULTI_HOST=false.",
                id="careline.W001",
            )
        ]
    return []


@register()
def multi_host_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Refuse (or warn about) a multi-host configuration that keeps uploads in a local folder."""
    return multi_host_messages(
        multi_host=settings.CARELINE_MULTI_HOST,
        storages=settings.STORAGES,
        databases=settings.DATABASES,
        broker_url=settings.CELERY_BROKER_URL,
    )


def refuse_serious_multi_host_problems(**kwargs: Any) -> None:
    """Stop a worker (or web) start-up on an error of the check: Celery runs the system checks but goes on."""
    errors = [message for message in multi_host_check() if message.is_serious()]
    if errors:
        raise ImproperlyConfigured("; ".join(f"{message.msg} {message.hint}" for message in errors))


def refuse_worker_start(**kwargs: Any) -> None:
    """worker_init receiver: exit with the check's message (Celery logs and ignores a signal's exceptions)."""
    try:
        refuse_serious_multi_host_problems()
    except ImproperlyConfigured as error:
        raise SystemExit(f"Careline: refusing to start: {error}") from None
