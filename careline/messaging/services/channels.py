"""Channel configuration: the default channel of each kind, and the channel made from environment variables."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction

from careline.messaging.models import Channel, KeywordReplies

ENV_TWILIO_NAME = "Twilio (from environment)"


def channel_from_environment() -> Channel | None:
    """The Twilio channel described by TWILIO_* variables, created or brought up to date; None when unset.

    When configured this way the channel is the default SMS channel.
    """
    if not (settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN_SET):
        return None
    if not (settings.TWILIO_FROM_NUMBER or settings.TWILIO_MESSAGING_SERVICE_SID):
        return None
    config = {
        "account_sid": settings.TWILIO_ACCOUNT_SID,
        "auth_token_env": "TWILIO_AUTH_TOKEN",
        "from_number": settings.TWILIO_FROM_NUMBER or "",
        "messaging_service_sid": settings.TWILIO_MESSAGING_SERVICE_SID or "",
        "api_base_url": settings.TWILIO_API_BASE_URL or "",
    }
    rate = float(settings.TWILIO_RATE_PER_SECOND) if settings.TWILIO_RATE_PER_SECOND else None
    values = {
        "name": ENV_TWILIO_NAME,
        "type_code": "twilio",
        "address": settings.TWILIO_FROM_NUMBER or settings.TWILIO_MESSAGING_SERVICE_SID or "",
        "config": config,
        "is_active": True,
        "keyword_replies": settings.TWILIO_KEYWORD_REPLIES,
        "rate_per_second": rate,
    }
    with transaction.atomic():
        channel = Channel.objects.select_for_update().filter(source=Channel.Source.ENVIRONMENT).first()
        if channel is None:
            Channel.objects.filter(default_for="sms").update(default_for="")
            try:
                with transaction.atomic():
                    return Channel.objects.create(
                        source=Channel.Source.ENVIRONMENT, default_for="sms", **values
                    )
            except IntegrityError:
                return Channel.objects.get(source=Channel.Source.ENVIRONMENT)
        changed = [key for key, value in values.items() if getattr(channel, key) != value]
        if channel.default_for != "sms":
            Channel.objects.filter(default_for="sms").exclude(pk=channel.pk).update(default_for="")
            channel.default_for = "sms"
            changed.append("default_for")
        if changed:
            for key in changed:
                if key in values:
                    setattr(channel, key, values[key])
            channel.save(update_fields=changed)
        return channel


def channel_default(kind: str) -> Channel | None:
    """The active default channel for KIND ('sms' or 'email'); for sms, the simulator in development."""
    if kind == "sms":
        from_env = channel_from_environment()
        if from_env is not None:
            return from_env
    channel = Channel.objects.filter(default_for=kind, is_active=True).first()
    if channel is None and kind == "sms" and settings.CARELINE_SIMULATOR:
        channel = simulator_channel()
    if channel is None and kind == "email":
        channel = email_channel()
    return channel


def simulator_channel() -> Channel:
    """The embedded phone simulator channel (development and demos only)."""
    channel, _ = Channel.objects.get_or_create(
        type_code="simulator",
        defaults={
            "name": "Phone simulator",
            "address": "+15550100000",
            "keyword_replies": KeywordReplies.CARELINE,
            "default_for": "" if Channel.objects.filter(default_for="sms").exists() else "sms",
        },
    )
    return channel


def email_channel() -> Channel:
    """The email channel, sending through Django's configured email backend."""
    channel, _ = Channel.objects.get_or_create(
        type_code="email",
        defaults={
            "name": "Email",
            "address": settings.DEFAULT_FROM_EMAIL,
            "default_for": "" if Channel.objects.filter(default_for="email").exists() else "email",
        },
    )
    return channel
