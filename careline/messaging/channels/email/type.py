"""Email through Django's email framework: SMTP in production, a file backend in the embedded default."""

from __future__ import annotations

import smtplib
import uuid
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import make_msgid

from careline.messaging.channels.base import ChannelType, ProviderError, SendResult

if TYPE_CHECKING:
    from careline.messaging.models import Channel, Message


class EmailType(ChannelType):
    code = "email"
    name = "Email"
    capabilities = frozenset({"email"})

    def fallback_channel(self, kind: str) -> dict[str, Any] | None:
        """Email goes through Django's configured backend when no email channel is set."""
        if kind == "email":
            return {"name": "Email", "address": settings.DEFAULT_FROM_EMAIL}
        return None

    def send(self, channel: Channel, message: Message) -> SendResult:
        from careline.messaging.email_parts import email_parts_for

        return self._send(
            channel,
            to_address=message.to_address,
            subject=message.subject or "A message from your clinic",
            body=message.body,
            parts=email_parts_for(message),
        )

    def send_to_staff(self, channel: Channel, *, to_address: str, subject: str, body: str) -> SendResult:
        return self._send(channel, to_address=to_address, subject=subject or "Careline", body=body)

    def _send(
        self, channel: Channel, *, to_address: str, subject: str, body: str, parts: Any = None
    ) -> SendResult:
        message_id = make_msgid(idstring=uuid.uuid4().hex[:12], domain="careline")
        email = EmailMultiAlternatives(
            subject=subject,
            body=body,
            from_email=channel.address or None,
            to=[to_address],
            headers={"Message-ID": message_id},
        )
        if parts is not None:
            if parts.html:
                email.attach_alternative(parts.html, "text/html")
            for attachment in parts.attachments:
                email.attach(attachment.filename, attachment.content, attachment.mimetype)
        try:
            email.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as exc:
            raise ProviderError(f"recipient refused: {exc}", permanent=True, code="smtp-550") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise ProviderError(
                f"email server error: {type(exc).__name__}", permanent=False, code="smtp"
            ) from exc
        return SendResult(provider_message_id=message_id.strip("<>")[:64])
