"""Where uploads live: a folder under var/ on one host, or an S3-compatible object store every host shares.

Attachments and MMS media, record documents, education PDFs and import files all go through Django's default
storage (`default_storage` or a FileField), so the choice is made once, in settings.STORAGES["default"].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

FILESYSTEM_BACKEND = "django.core.files.storage.FileSystemStorage"
S3_BACKEND = "storages.backends.s3.S3Storage"
ADDRESSING_STYLES = ("auto", "path", "virtual")


@dataclass(frozen=True)
class S3Config:
    """An S3-compatible bucket: where it is and how to sign in to it."""

    bucket: str
    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    addressing_style: str = "auto"
    prefix: str = ""


def s3_storage(config: S3Config) -> dict[str, Any]:
    """The STORAGES entry for CONFIG (django-storages' S3 backend, private objects, never overwritten)."""
    options: dict[str, Any] = {
        "bucket_name": config.bucket,
        "location": config.prefix.strip("/"),
        "addressing_style": None if config.addressing_style == "auto" else config.addressing_style,
        "signature_version": "s3v4",
        # Uploads hold patient data: private objects, and a name already taken gets a fresh one, as on disk
        # (S3's default is to overwrite silently).
        "default_acl": None,
        "file_overwrite": False,
        "querystring_auth": True,
        "querystring_expire": 300,
    }
    if config.endpoint_url:
        options["endpoint_url"] = config.endpoint_url
    if config.region:
        options["region_name"] = config.region
    if config.access_key_id and config.secret_access_key:
        options["access_key"] = config.access_key_id
        options["secret_key"] = config.secret_access_key
    return {"BACKEND": S3_BACKEND, "OPTIONS": options}


def storage_is_local(storages: dict[str, Any]) -> bool:
    """Whether the default storage keeps files on this host's disk."""
    backend = str(storages.get("default", {}).get("BACKEND", FILESYSTEM_BACKEND))
    return backend == FILESYSTEM_BACKEND or backend.endswith(".FileSystemStorage")
