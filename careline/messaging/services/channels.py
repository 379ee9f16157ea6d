"""Channel configuration: the default channel of each kind, and the channel made from environment variables.

The environment's Twilio channel is reconciled (created or brought up to date, under a row lock) when a
process starts: after `migrate` (post_migrate), when a worker or beat starts (Celery signals), and lazily
once in each web process on its first send or webhook. The send path itself reads the row without a lock
and reconciles again only when the row is missing or no longer matches the environment.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from careline.core.audit import AuditAction, audit_record
from careline.messaging.models import Channel, KeywordReplies
from careline.messaging.services.admin import channel_changes

logger = logging.getLogger(__name__)

ENV_TWILIO_NAME = "Twilio (from environment)"
ENV_TOKEN_VARIABLE = "TWILIO_AUTH_TOKEN"  # noqa: S105 - a variable name, not a secret

_reconcile_lock = threading.Lock()


def environment_channel_values() -> dict[str, Any] | None:
    """The fields of the channel TWILIO_* variables describe; None when they do not describe one."""
    if not (settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN_SET):
        return None
    if not (settings.TWILIO_FROM_NUMBER or settings.TWILIO_MESSAGING_SERVICE_SID):
        return None
    config = {
        "account_sid": settings.TWILIO_ACCOUNT_SID,
        "auth_token_env": ENV_TOKEN_VARIABLE,
        "from_number": settings.TWILIO_FROM_NUMBER or "",
        "messaging_service_sid": settings.TWILIO_MESSAGING_SERVICE_SID or "",
        "api_base_url": settings.TWILIO_API_BASE_URL or "",
    }
    rate = float(settings.TWILIO_RATE_PER_SECOND) if settings.TWILIO_RATE_PER_SECOND else None
    return {
        "name": ENV_TWILIO_NAME,
        "type_code": "twilio",
        "address": settings.TWILIO_FROM_NUMBER or settings.TWILIO_MESSAGING_SERVICE_SID or "",
        "config": config,
        "is_active": True,
        "keyword_replies": settings.TWILIO_KEYWORD_REPLIES,
        "rate_per_second": rate,
    }


def environment_channel_problem() -> str:
    """Why the TWILIO_* variables describe no usable channel ("" when they do, or when none is set)."""
    if not (settings.TWILIO_ACCOUNT_SID or settings.TWILIO_AUTH_TOKEN_SET):
        return ""
    if not settings.TWILIO_ACCOUNT_SID:
        return "TWILIO_AUTH_TOKEN is set but TWILIO_ACCOUNT_SID is not"
    if not settings.TWILIO_AUTH_TOKEN_SET:
        return "TWILIO_ACCOUNT_SID is set but TWILIO_AUTH_TOKEN is not"
    if not (settings.TWILIO_FROM_NUMBER or settings.TWILIO_MESSAGING_SERVICE_SID):
        return "TWILIO_ACCOUNT_SID is set but neither TWILIO_FROM_NUMBER nor TWILIO_MESSAGING_SERVICE_SID"
    return ""


def _is_current(channel: Channel, values: dict[str, Any]) -> bool:
    return channel.default_for == "sms" and all(
        getattr(channel, key) == value for key, value in values.items()
    )


def channel_environment_reconcile() -> Channel | None:
    """Create or update the channel TWILIO_* describe, under a row lock; None when they describe none.

    Run at start-up and when the environment changed; it takes the sms default for itself and records
    every change in the audit trail.
    """
    values = environment_channel_values()
    if values is None:
        return None
    with _reconcile_lock, transaction.atomic():
        channel = Channel.objects.select_for_update().filter(source=Channel.Source.ENVIRONMENT).first()
        if channel is None:
            Channel.objects.filter(default_for="sms").update(default_for="")
            try:
                with transaction.atomic():
                    channel = Channel.objects.create(
                        source=Channel.Source.ENVIRONMENT, default_for="sms", **values
                    )
            except IntegrityError:
                # Another process starting at the same moment created it (one environment row at most).
                return Channel.objects.get(source=Channel.Source.ENVIRONMENT)
            _audit_environment_change(channel, AuditAction.CREATE, channel_changes({}, values))
            return channel
        changed = [key for key, value in values.items() if getattr(channel, key) != value]
        changes = channel_changes(
            {key: getattr(channel, key) for key in changed}, {k: values[k] for k in changed}
        )
        if channel.default_for != "sms":
            Channel.objects.filter(default_for="sms").exclude(pk=channel.pk).update(default_for="")
            channel.default_for = "sms"
            changed.append("default_for")
        if changed:
            for key in changed:
                if key in values:
                    setattr(channel, key, values[key])
            channel.save(update_fields=changed)
            _audit_environment_change(channel, AuditAction.UPDATE, changes or ["default_for: -> 'sms'"])
        return channel


def _audit_environment_change(channel: Channel, action: str, changes: list[str]) -> None:
    audit_record(
        action=action,
        obj=channel,
        actor_label="environment (TWILIO_*)",
        detail=f"channel {channel.type_code} from environment variables; " + "; ".join(changes),
    )


def channel_environment_reconcile_safely(**kwargs: Any) -> None:
    """Reconcile at a process's start (signal receiver); a failure is logged, never stops the process."""
    try:
        channel_environment_reconcile()
    except Exception:  # a start-up hook must not kill the process; the send path reconciles again
        logger.exception("could not reconcile the channel from TWILIO_* environment variables")


def channel_from_environment() -> Channel | None:
    """The Twilio channel described by TWILIO_* variables; None when unset. It is the default SMS channel.

    One plain read on the send path: the row is reconciled (locked and updated) only when it is missing
    or no longer matches the environment.
    """
    values = environment_channel_values()
    if values is None:
        return None
    channel = Channel.objects.filter(source=Channel.Source.ENVIRONMENT).first()
    if channel is not None and _is_current(channel, values):
        return channel
    return channel_environment_reconcile()


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


def channels_health() -> dict[str, str]:
    """For /healthz: an error when a provider is configured in the environment but has no current channel."""
    problem = environment_channel_problem()
    if problem:
        return {"status": "error", "error": problem}
    values = environment_channel_values()
    if values is None:
        return {"status": "ok"}
    channel = Channel.objects.filter(source=Channel.Source.ENVIRONMENT).first()
    if channel is None:
        return {
            "status": "error",
            "error": "TWILIO_* variables are set but no channel exists for them: run migrate or restart",
        }
    if not _is_current(channel, values):
        return {
            "status": "error",
            "error": "the channel from TWILIO_* variables is out of date: run migrate or restart",
        }
    return {"status": "ok", "provider": str(values["type_code"])}


def simulator_channel() -> Channel:
    """The embedded phone simulator channel (development and demos only): the first one, when there are several."""
    # An administrator may add another channel of the simulator type on the channel pages.
    existing = Channel.objects.filter(type_code="simulator").order_by("pk").first()
    if existing is not None:
        return existing
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
    """The email channel, sending through Django's configured email backend: the first one, when there are several."""
    existing = Channel.objects.filter(type_code="email").order_by("pk").first()
    if existing is not None:
        return existing
    channel, _ = Channel.objects.get_or_create(
        type_code="email",
        defaults={
            "name": "Email",
            "address": settings.DEFAULT_FROM_EMAIL,
            "default_for": "" if Channel.objects.filter(default_for="email").exists() else "email",
        },
    )
    return channel
