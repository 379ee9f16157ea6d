"""Image attachments (MMS) staff add to a text: checked, stored under MEDIA_ROOT with a random name.

Files live at MEDIA_ROOT/messaging/<conversation id>/<random>.<ext> and are never served as static files.
Staff fetch them through a view that checks they may read the conversation; the provider fetches them
through a signed, unguessable URL (the one stored in Message.media), which expires.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.urls import reverse

MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
PROVIDER_URL_MAX_AGE = 7 * 24 * 3600  # providers fetch media when they send; a week leaves room for retries
SIGNING_SALT = "careline.messaging.media"
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")

# The file's first bytes decide its type; the name and the browser's claim are not trusted.
SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"GIF87a", "image/gif", "gif"),
    (b"GIF89a", "image/gif", "gif"),
)


def media_root() -> Path:
    return Path(settings.MEDIA_ROOT) / "messaging"


def attachment_type(upload: UploadedFile) -> tuple[str, str]:
    """(content type, extension) of UPLOAD; ValidationError unless it is a JPEG, PNG or GIF of at most 5 MB."""
    if upload.size is None or upload.size > MAX_ATTACHMENT_BYTES:
        raise ValidationError("Images can be at most 5 MB.")
    if upload.size == 0:
        raise ValidationError("The file is empty.")
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for magic, content_type, extension in SIGNATURES:
        if head.startswith(magic):
            return content_type, extension
    raise ValidationError("Attach a JPEG, PNG or GIF image.")


def attachment_store(*, conversation_id: int, upload: UploadedFile) -> dict[str, str]:
    """Check and store UPLOAD; the Message.media entry for it: {url (for the provider), content_type, file}."""
    content_type, extension = attachment_type(upload)
    name = f"{secrets.token_urlsafe(24)}.{extension}"
    folder = media_root() / str(conversation_id)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / name, "wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    return {
        "url": provider_media_url(conversation_id, name),
        "content_type": content_type,
        "file": f"{conversation_id}/{name}",
    }


def provider_media_url(conversation_id: int, name: str) -> str:
    """The absolute, signed URL a provider fetches the file from (no sign-in, expires)."""
    token = signing.dumps({"c": conversation_id, "n": name}, salt=SIGNING_SALT, compress=True)
    return settings.PUBLIC_BASE_URL + reverse("messaging:media_public", args=[token])


def provider_media_path(token: str) -> Path | None:
    """The file a provider's signed TOKEN names; None when the token is forged, expired or names nothing."""
    try:
        data: Any = signing.loads(token, salt=SIGNING_SALT, max_age=PROVIDER_URL_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    return media_path(int(data.get("c", 0)), str(data.get("n", "")))


def media_path(conversation_id: int, name: str) -> Path | None:
    """The stored file NAME of the conversation; None for anything that is not a plain stored name."""
    if not name or not set(name) <= _NAME_CHARS or name.startswith(".") or "/" in name:
        return None
    path = media_root() / str(conversation_id) / name
    return path if path.is_file() else None


def content_type_of(path: Path) -> str:
    """The content type recorded by the extension we gave the file ourselves."""
    extension = path.suffix.lstrip(".")
    for _, content_type, known in SIGNATURES:
        if known == extension:
            return content_type
    return "application/octet-stream"
