"""The richer parts of an email (an HTML part, attachments) that the app owning its subject adds at send time.

A message stores its text only. An email about a subject ("statement:12", see `subject_key`) may also carry
an HTML part and files the owning app renders just before it is sent (a statement's PDF is drawn in the
worker, not in the request that issued it). Messaging never imports that app: the app registers a function
for its prefix in its AppConfig.ready(), as with `register_subject_check`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from careline.messaging.models import Message


@dataclass(frozen=True)
class EmailAttachment:
    filename: str
    content: bytes
    mimetype: str


@dataclass(frozen=True)
class EmailParts:
    """What an email carries beside its text: an HTML alternative and attachments."""

    html: str = ""
    attachments: tuple[EmailAttachment, ...] = field(default_factory=tuple)


EmailPartsSource = Callable[["Message"], EmailParts | None]

_sources: dict[str, EmailPartsSource] = {}


def register_email_parts(prefix: str, source: EmailPartsSource) -> EmailPartsSource:
    """Ask SOURCE for the HTML part and attachments of emails whose subject_key starts with 'PREFIX:'."""
    _sources[prefix] = source
    return source


def email_parts_for(message: Message) -> EmailParts | None:
    """The extra parts of MESSAGE's email, or None (a plain text email)."""
    if not message.subject_key:
        return None
    source = _sources.get(message.subject_key.split(":", 1)[0])
    return source(message) if source is not None else None
