"""Write to the audit trail. Every read or change of a patient's data by a person goes through here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from django.db import models
from django.http import HttpRequest
from django.utils import timezone

from careline.core.actor import UNNAMED_JOB, Actor, RequestFacts
from careline.core.models import ActorKind, AuditAction, AuditChannel, AuditEntry
from careline.core.network import client_ip

# A page that refreshes itself (a conversation's thread, the inbox list, the simulator's screen) would
# otherwise write an entry every few seconds: a read already on record for the same person, action and
# object within this window is not written again. The server decides this per view; nothing a client
# sends turns auditing off.
READ_COALESCE_WINDOW = timedelta(minutes=5)


def _has_actor(request: HttpRequest | None) -> bool:
    if request is None:
        return False
    user: Any = getattr(request, "user", None)
    return getattr(request, "api_token", None) is not None or (user is not None and user.is_authenticated)


def _actor_of(request: HttpRequest | None, label: str) -> Actor:
    """The actor behind REQUEST, or (without a signed-in one) the system named by LABEL."""
    if request is not None and _has_actor(request):
        return Actor.from_request(request)
    system = Actor.system(label or UNNAMED_JOB, channel=_channel_of(request))
    return replace(system, request=RequestFacts.of(request))


def _channel_of(request: HttpRequest | None) -> str:
    if request is None:
        return AuditChannel.SYSTEM
    return str(getattr(request, "audit_channel", AuditChannel.WEB))


def audit_record(
    *,
    action: str,
    actor: Actor | None = None,
    request: HttpRequest | None = None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    patient_id: int | None = None,
    detail: str = "",
    channel: str | None = None,
    actor_label: str = "",
) -> AuditEntry:
    """Append one entry by ACTOR; without one, by whoever is behind REQUEST (or the system, ACTOR_LABEL)."""
    if actor is None:
        actor = _actor_of(request, actor_label)
    # An entry nobody in particular made (a failed sign-in, a webhook) keeps the label it is given, even "".
    unnamed = actor.kind == ActorKind.SYSTEM and actor.job == UNNAMED_JOB
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    label = actor_label or ("" if unnamed else actor.label)
    return AuditEntry.objects.create(
        **_actor_fields(actor, label, channel),
        action=action,
        object_type=object_type,
        object_id=str(object_id)[:64],
        patient_id=patient_id,
        detail=detail[:500],
    )


def _actor_fields(actor: Actor, label: str, channel: str | None = None) -> dict[str, Any]:
    """The columns that say who acted, from where."""
    return {
        "actor": actor.user,
        "actor_kind": actor.kind,
        "actor_label": label[:254],
        "api_token_id": actor.api_token_id,
        "caregiver_id": actor.caregiver_id,
        "on_behalf_of_id": actor.patient_id,
        "request_id": actor.request.request_id,
        "channel": channel or actor.channel,
        "ip_address": actor.request.ip_address,
        "user_agent": actor.request.user_agent,
    }


def audit_patients_record(
    *, actor: Actor, action: str, patient_ids: Iterable[int], detail: str, actor_label: str = ""
) -> int:
    """One entry per patient of PATIENT_IDS by ACTOR, in one insert (a handoff shows, an import creates, many)."""
    fields = _actor_fields(actor, actor_label or actor.label)
    entries = AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                **fields,
                action=action,
                object_type="patients.patient",
                object_id=str(patient_id),
                patient_id=patient_id,
                detail=detail[:500],
            )
            for patient_id in patient_ids
        ]
    )
    return len(entries)


def audit_patient_access(
    *,
    action: str,
    patient_id: int,
    actor: Actor | None = None,
    request: HttpRequest | None = None,
    obj: models.Model | None = None,
    detail: str = "",
) -> AuditEntry:
    """Record that ACTOR (or the person behind REQUEST) read or changed something of a patient."""
    return audit_record(
        actor=actor, request=request, action=action, obj=obj, patient_id=patient_id, detail=detail
    )


def audit_read_coalesced(
    *,
    request: HttpRequest,
    action: str = AuditAction.VIEW,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    patient_id: int | None = None,
    detail: str = "",
) -> AuditEntry | None:
    """Record a read made by a self-refreshing view, unless the same read is on record from the last minutes.

    Returns the new entry, or None when an equal entry (same person, action, object, patient and detail)
    was written within READ_COALESCE_WINDOW.
    """
    actor = _actor_of(request, "")
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    detail = detail[:500]
    if actor.user is not None:
        recent = AuditEntry.objects.filter(
            actor=actor.user,
            actor_kind=actor.kind,
            at__gte=timezone.now() - READ_COALESCE_WINDOW,
            action=action,
            object_type=object_type,
            object_id=str(object_id)[:64],
            patient_id=patient_id,
            detail=detail,
        )
        if recent.exists():
            return None
    return audit_record(
        action=action,
        actor=actor,
        object_type=object_type,
        object_id=object_id,
        patient_id=patient_id,
        detail=detail,
    )


__all__ = [
    "Actor",
    "AuditAction",
    "AuditChannel",
    "audit_patient_access",
    "audit_read_coalesced",
    "audit_record",
    "client_ip",
]
