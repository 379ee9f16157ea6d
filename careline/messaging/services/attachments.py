"""Media of texts: images staff attach (MMS) and what patients send, kept in Django's default storage.

Files live at messaging/<conversation id>/<random>.<ext> in the default storage (MEDIA_ROOT unless
configured otherwise) and are never served as static files. Staff fetch them through a view that checks
they may read the conversation and records the read; the provider fetches staff images through a signed,
unguessable URL (the one stored in Message.media), which expires. Patients' media are copied from the
provider by the inbound processing task, so staff pages never hot-link the provider's address.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.urls import reverse
from django.utils.translation import gettext

MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
PROVIDER_URL_MAX_AGE = 7 * 24 * 3600  # providers fetch media when they send; a week leaves room for retries
SIGNING_SALT = "careline.messaging.media"
FOLDER = "messaging"
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")

# The file's first bytes decide its type; the name and the browser's (or provider's) claim are not trusted.
SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"GIF87a", "image/gif", "gif"),
    (b"GIF89a", "image/gif", "gif"),
)
PDF_SIGNATURE = (b"%PDF-", "application/pdf", "pdf")
# Patients may also send a PDF (a referral, an insurance card scan); staff attach images only.
INBOUND_SIGNATURES = (*SIGNATURES, PDF_SIGNATURE)
# What a signed-in patient may attach to a secure message: a PDF, a JPEG or a PNG, nothing else.
PATIENT_UPLOAD_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    PDF_SIGNATURE,
)


def media_url_allowed(url: str) -> bool:
    """Whether a provider's media URL may be stored and linked: https, or http in development only."""
    try:
        parts = urlsplit(str(url).strip())
    except ValueError:
        return False
    schemes = ("https", "http") if settings.CARELINE_ENV == "development" else ("https",)
    return parts.scheme in schemes and bool(parts.netloc)


def attachment_type(upload: UploadedFile) -> tuple[str, str]:
    """(content type, extension) of UPLOAD; ValidationError unless it is a JPEG, PNG or GIF of at most 5 MB."""
    if upload.size is None or upload.size > MAX_ATTACHMENT_BYTES:
        raise ValidationError("Images can be at most 5 MB.")
    if upload.size == 0:
        raise ValidationError("The file is empty.")
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    kind = _sniff(head, SIGNATURES)
    if kind is None:
        raise ValidationError("Attach a JPEG, PNG or GIF image.")
    return kind


def patient_upload_type(upload: UploadedFile) -> tuple[str, str]:
    """(content type, extension) of a file a signed-in patient attaches; ValidationError unless its bytes are
    a PDF, JPEG or PNG of at most 5 MB (the name and the browser's claim are not trusted)."""
    if upload.size is None or upload.size > MAX_ATTACHMENT_BYTES:
        raise ValidationError(gettext("Files can be at most 5 MB."))
    if upload.size == 0:
        raise ValidationError(gettext("The file is empty."))
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    kind = _sniff(head, PATIENT_UPLOAD_SIGNATURES)
    if kind is None:
        raise ValidationError(gettext("Attach a PDF, JPEG or PNG file."))
    return kind


def patient_upload_store(*, conversation_id: int, upload: UploadedFile) -> dict[str, str]:
    """Check and store a patient's UPLOAD; its Message.media entry {content_type, file, state, name}."""
    content_type, extension = patient_upload_type(upload)
    upload.seek(0)
    file = media_save(conversation_id=conversation_id, data=upload.read(), extension=extension)
    # The name the patient gave, cut and reduced to plain characters: shown as a label, never a path.
    label = "".join(ch for ch in (upload.name or "")[-80:] if ch.isalnum() or ch in " ._-()") or "file"
    return {"content_type": content_type, "file": file, "state": "copied", "name": label.strip()}


def inbound_media_type(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) of media a patient sent, when it is an image or a PDF; None otherwise."""
    return _sniff(data[:16], INBOUND_SIGNATURES)


def _sniff(head: bytes, signatures: tuple[tuple[bytes, str, str], ...]) -> tuple[str, str] | None:
    for magic, content_type, extension in signatures:
        if head.startswith(magic):
            return content_type, extension
    return None


def attachment_store(*, conversation_id: int, upload: UploadedFile) -> dict[str, str]:
    """Check and store UPLOAD; the Message.media entry for it: {url (for the provider), content_type, file}."""
    content_type, extension = attachment_type(upload)
    upload.seek(0)
    file = media_save(conversation_id=conversation_id, data=upload.read(), extension=extension)
    return {
        "url": provider_media_url(conversation_id, file.split("/", 1)[1]),
        "content_type": content_type,
        "file": file,
    }


def media_save(*, conversation_id: int, data: bytes, extension: str) -> str:
    """Store DATA under a random name; the Message.media "file" value: "<conversation id>/<name>"."""
    name = f"{secrets.token_urlsafe(24)}.{extension}"
    stored = default_storage.save(f"{FOLDER}/{conversation_id}/{name}", ContentFile(data))
    return stored.split("/", 1)[1]


def media_delete(file: str) -> None:
    """Remove a stored file given its Message.media "file" value (a message that was refused)."""
    conversation_id, _, name = file.partition("/")
    if conversation_id.isdecimal() and media_path(int(conversation_id), name) is not None:
        default_storage.delete(f"{FOLDER}/{file}")


def provider_media_url(conversation_id: int, name: str) -> str:
    """The absolute, signed URL a provider fetches the file from (no sign-in, expires)."""
    token = signing.dumps({"c": conversation_id, "n": name}, salt=SIGNING_SALT, compress=True)
    return settings.PUBLIC_BASE_URL + reverse("messaging:media_public", args=[token])


def provider_media_path(token: str) -> str | None:
    """The stored file a provider's signed TOKEN names; None when the token is forged, expired or names nothing."""
    try:
        data: Any = signing.loads(token, salt=SIGNING_SALT, max_age=PROVIDER_URL_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    return media_path(int(data.get("c", 0)), str(data.get("n", "")))


def media_path(conversation_id: int, name: str) -> str | None:
    """The storage name of the conversation's file NAME; None for anything that is not a plain stored name."""
    if not name or not set(name) <= _NAME_CHARS or name.startswith(".") or "/" in name:
        return None
    path = f"{FOLDER}/{conversation_id}/{name}"
    return path if default_storage.exists(path) else None


def media_read(path: str) -> bytes:
    """The bytes of a stored file (at most MAX_ATTACHMENT_BYTES: nothing larger is ever stored)."""
    with default_storage.open(path, "rb") as handle:
        data: bytes = handle.read()
    return data


def content_type_of(path: str) -> str:
    """The content type recorded by the extension we gave the file ourselves."""
    extension = path.rsplit(".", 1)[-1] if "." in path else ""
    for _, content_type, known in INBOUND_SIGNATURES:
        if known == extension:
            return content_type
    return "application/octet-stream"
