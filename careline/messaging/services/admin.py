"""Messaging administration: channels, saved replies and per-location messaging policies."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.core.languages import translations_kept
from careline.locations.models import Location
from careline.messaging.models import Channel, MessagingPolicy, SavedReply
from careline.messaging.templating import TemplateKind, TemplateProblem, template_validate


class ChannelRuleError(ValidationError):
    """The channel cannot be saved as asked (e.g. the environment-configured channel)."""


def channel_save(
    *,
    channel: Channel | None,
    type_code: str,
    name: str,
    address: str,
    config: dict[str, str],
    is_active: bool,
    default_for: str,
    rate_per_second: float | None,
    keyword_replies: str,
    actor: Actor,
) -> Channel:
    """Create or change a channel configured in the UI; the default of a kind moves to it when asked."""
    if channel is not None and channel.source == Channel.Source.ENVIRONMENT:
        raise ChannelRuleError(
            "This channel comes from environment variables; change them and restart instead."
        )
    from careline.messaging.channels import channel_type

    problems = channel_type(type_code).config_problems(config, source=Channel.Source.UI)
    if problems:
        raise ValidationError({f"config_{name}": [problem] for name, problem in problems.items()})
    with transaction.atomic():
        if default_for:
            others = Channel.objects.filter(default_for=default_for)
            if channel is not None:
                others = others.exclude(pk=channel.pk)
            others.update(default_for="")
        values = {
            "name": name.strip(),
            "address": address,
            "config": config,
            "is_active": is_active,
            "default_for": default_for,
            "rate_per_second": rate_per_second,
            "keyword_replies": keyword_replies,
        }
        if channel is None:
            changes = channel_changes({}, values)
            channel = Channel.objects.create(type_code=type_code, source=Channel.Source.UI, **values)
            action = AuditAction.CREATE
        else:
            changes = channel_changes({key: getattr(channel, key) for key in values}, values)
            for key, value in values.items():
                setattr(channel, key, value)
            channel.save(update_fields=list(values))
            action = AuditAction.UPDATE
        audit_record(
            actor=actor,
            action=action,
            obj=channel,
            detail=f"channel {channel.type_code}; " + ("; ".join(changes) or "nothing changed"),
        )
    return channel


def channel_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What differs, for the audit trail: "field: old -> new", config keys one by one.

    Config holds no secrets (a secret field holds a variable's name), so old and new values are shown:
    "who pointed the channel at which URL, and which variable it names" is what an audit must answer.
    """
    changes = []
    for key in sorted(after):
        old, new = before.get(key), after[key]
        if key == "config":
            old_config, new_config = old or {}, new or {}
            for name in sorted(set(old_config) | set(new_config)):
                if old_config.get(name) != new_config.get(name):
                    changes.append(f"config.{name}: {old_config.get(name)!r} -> {new_config.get(name)!r}")
        elif old != new:
            changes.append(f"{key}: {old!r} -> {new!r}")
    return changes


def saved_reply_save(
    *,
    reply: SavedReply | None,
    title: str,
    body: str,
    location: Location | None,
    is_active: bool,
    actor: Actor,
) -> SavedReply:
    """Create or change a saved reply; TemplateProblem when the body is not a valid saved-reply template."""
    template_validate(body, kind=TemplateKind.SAVED_REPLY)
    creating = reply is None
    reply = reply or SavedReply(created_by=actor.user)
    reply.title, reply.body, reply.location, reply.is_active = (
        title.strip(),
        body.strip(),
        location,
        is_active,
    )
    reply.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if creating else AuditAction.UPDATE,
        obj=reply,
        detail="saved reply",
    )
    return reply


def saved_reply_delete(*, reply: SavedReply, actor: Actor) -> None:
    """Remove a saved reply (messages already sent with it keep their text)."""
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=reply,
        detail="saved reply deleted",
    )
    reply.delete()


def messaging_policy_save(
    *,
    location: Location,
    window_start: Any,
    window_end: Any,
    after_hours_reply_enabled: bool,
    after_hours_text: str,
    actor: Actor,
    after_hours_translations: Mapping[str, str] | None = None,
) -> MessagingPolicy:
    """Set a location's texting window (both None: follow CARELINE_TEXTING_WINDOW) and after-hours replies."""
    if (window_start is None) != (window_end is None):
        raise ValidationError(
            {"window_end": ["Set both times, or leave both empty to use the clinic-wide window."]}
        )
    if window_start is not None and window_start >= window_end:
        raise ValidationError({"window_end": ["The window must close after it opens (the same day)."]})
    translations = translations_kept(after_hours_translations or {})
    texts = [("after_hours_text", after_hours_text)]
    texts += [(f"after_hours_text_{code}", text) for code, text in translations.items()]
    for name, text in texts:
        try:
            template_validate(text, kind=TemplateKind.AFTER_HOURS)
        except TemplateProblem as problem:
            raise ValidationError({name: [str(problem)]}) from None
    policy, _ = MessagingPolicy.objects.update_or_create(
        location=location,
        defaults={
            "window_start": window_start,
            "window_end": window_end,
            "after_hours_reply_enabled": after_hours_reply_enabled,
            "after_hours_text": after_hours_text.strip(),
            "after_hours_translations": translations,
        },
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=policy,
        detail=f"messaging policy of location {location.pk}",
    )
    return policy
