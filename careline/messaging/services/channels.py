"""Channel configuration: the default channel of each kind, and the channel made from environment variables.

Which type's variables make the environment channel (Twilio's TWILIO_*), and which channels Careline makes
by itself (the simulator, email), the installed types say (`environment_channel`, `fallback_channel`).
The environment's channel is reconciled (created or brought up to date, under a row lock) when a
process starts: after `migrate` (post_migrate), when a worker or beat starts (Celery signals), and lazily
once in each web process on its first send or webhook. The send path itself reads the row without a lock
and reconciles again only when the row is missing or no longer matches the environment.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.db import IntegrityError, transaction

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.messaging.channels import channel_types
from careline.messaging.channels.base import ChannelType
from careline.messaging.channels.simulator.type import SIMULATOR_CHANNEL, SimulatorType
from careline.messaging.models import Channel
from careline.messaging.services.admin import channel_changes

logger = logging.getLogger(__name__)

_reconcile_lock = threading.Lock()


def _environment_type() -> ChannelType | None:
    """The first installed type whose environment variables describe a channel (one such channel at most)."""
    for channel_type in channel_types().values():
        if channel_type.environment_channel() is not None:
            return channel_type
    return None


def environment_channel_values() -> dict[str, Any] | None:
    """The fields of the channel environment variables describe (with its default_for); None when none does."""
    for channel_type in channel_types().values():
        values = channel_type.environment_channel()
        if values is not None:
            return values
    return None


def environment_channel_problem() -> str:
    """Why a type's environment variables describe no usable channel ("" when none is set, or all are fine)."""
    for channel_type in channel_types().values():
        problem = channel_type.environment_problem()
        if problem:
            return problem
    return ""


def _environment_label() -> str:
    channel_type = _environment_type()
    return (channel_type.environment_label if channel_type is not None else "") or "environment"


def _is_current(channel: Channel, values: dict[str, Any]) -> bool:
    return all(getattr(channel, key) == value for key, value in values.items())


def channel_environment_reconcile() -> Channel | None:
    """Create or update the channel environment variables describe, under a row lock; None without one.

    Run at start-up and when the environment changed; it takes the default of its kind (texts, for
    Twilio) for itself and records every change in the audit trail.
    """
    values = environment_channel_values()
    if values is None:
        return None
    values = dict(values)
    kind = str(values.pop("default_for", "") or "")
    with _reconcile_lock, transaction.atomic():
        channel = Channel.objects.select_for_update().filter(source=Channel.Source.ENVIRONMENT).first()
        if channel is None:
            if kind:
                Channel.objects.filter(default_for=kind).update(default_for="")
            try:
                with transaction.atomic():
                    channel = Channel.objects.create(
                        source=Channel.Source.ENVIRONMENT, default_for=kind, **values
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
        if kind and channel.default_for != kind:
            Channel.objects.filter(default_for=kind).exclude(pk=channel.pk).update(default_for="")
            channel.default_for = kind
            changed.append("default_for")
        if changed:
            for key in changed:
                if key in values:
                    setattr(channel, key, values[key])
            channel.save(update_fields=changed)
            _audit_environment_change(channel, AuditAction.UPDATE, changes or [f"default_for: -> {kind!r}"])
        return channel


def _audit_environment_change(channel: Channel, action: str, changes: list[str]) -> None:
    audit_record(
        action=action,
        obj=channel,
        actor=Actor.system(f"environment ({_environment_label()})"),
        detail=f"channel {channel.type_code} from environment variables; " + "; ".join(changes),
    )


def channel_environment_reconcile_safely(**kwargs: Any) -> None:
    """Reconcile at a process's start (signal receiver); a failure is logged, never stops the process."""
    try:
        channel_environment_reconcile()
    except Exception:  # a start-up hook must not kill the process; the send path reconciles again
        logger.exception(
            "could not reconcile the channel from %s environment variables", _environment_label()
        )


def channel_from_environment() -> Channel | None:
    """The channel environment variables describe (TWILIO_*); None when unset. It is the default of its kind.

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
    """The active default channel for KIND ('sms' or 'email'): the environment's, a configured one, or one
    an installed type provides by itself (the simulator in development, Django's email backend)."""
    values = environment_channel_values()
    if values is not None and values.get("default_for") == kind:
        from_env = channel_from_environment()
        if from_env is not None:
            return from_env
    channel = Channel.objects.filter(default_for=kind, is_active=True).first()
    if channel is None:
        channel = channel_fallback(kind)
    return channel


def channel_fallback(kind: str) -> Channel | None:
    """The channel the first installed type offering one for KIND provides by itself; None when none does."""
    for channel_type in channel_types().values():
        values = channel_type.fallback_channel(kind)
        if values is not None:
            return channel_builtin(type_code=channel_type.code, kind=kind, values=values)
    return None


def channel_builtin(*, type_code: str, kind: str, values: dict[str, Any]) -> Channel:
    """The channel of TYPE_CODE Careline made by itself (created with VALUES, default for KIND if free).

    An administrator may add more channels of the same type on the channel pages: the first one is used.
    """
    existing = Channel.objects.filter(type_code=type_code).order_by("pk").first()
    if existing is not None:
        return existing
    channel, _ = Channel.objects.get_or_create(
        type_code=type_code,
        defaults={**values, "default_for": "" if Channel.objects.filter(default_for=kind).exists() else kind},
    )
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
            "error": f"{_environment_label()} variables are set but no channel exists for them: "
            "run migrate or restart",
        }
    if not _is_current(channel, values):
        return {
            "status": "error",
            "error": f"the channel from {_environment_label()} variables is out of date: run migrate or restart",
        }
    return {"status": "ok", "provider": str(values["type_code"])}


def simulator_channel() -> Channel:
    """The embedded phone simulator channel (development and demos only)."""
    return channel_builtin(type_code=SimulatorType.code, kind="sms", values=SIMULATOR_CHANNEL)
