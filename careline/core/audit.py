"""Write to the audit trail. Every read or change of a patient's data by a person goes through here."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import models
from django.http import HttpRequest
from django.utils import timezone

from careline.core.models import AuditAction, AuditChannel, AuditEntry
from careline.core.network import client_ip

# A page that refreshes itself (a conversation's thread, the inbox list, the simulator's screen) would
# otherwise write an entry every few seconds: a read already on record for the same person, action and
# object within this window is not written again. The server decides this per view; nothing a client
# sends turns auditing off.
READ_COALESCE_WINDOW = timedelta(minutes=5)


def _actor_of(request: HttpRequest | None) -> Any:
    user = getattr(request, "user", None) if request is not None else None
    return user if user is not None and user.is_authenticated else None


def audit_record(
    *,
    action: str,
    request: HttpRequest | None = None,
    actor: Any = None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    patient_id: int | None = None,
    detail: str = "",
    channel: str | None = None,
    actor_label: str = "",
) -> AuditEntry:
    """Append one entry. The actor and client come from REQUEST unless given."""
    if actor is None:
        actor = _actor_of(request)
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    if channel is None:
        channel = (
            getattr(request, "audit_channel", AuditChannel.WEB)
            if request is not None
            else AuditChannel.SYSTEM
        )
    label = actor_label or (getattr(actor, "email", "") if actor is not None else "")
    return AuditEntry.objects.create(
        actor=actor,
        actor_label=label[:254],
        action=action,
        object_type=object_type,
        object_id=str(object_id)[:64],
        patient_id=patient_id,
        detail=detail[:500],
        channel=channel,
        ip_address=client_ip(request),
        user_agent=(request.META.get("HTTP_USER_AGENT", "") if request is not None else "")[:300],
    )


def audit_patient_access(
    *, request: HttpRequest, action: str, patient_id: int, obj: models.Model | None = None, detail: str = ""
) -> AuditEntry:
    """Record that the person behind REQUEST read or changed something of a patient."""
    return audit_record(request=request, action=action, obj=obj, patient_id=patient_id, detail=detail)


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
    actor = _actor_of(request)
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    detail = detail[:500]
    if actor is not None:
        recent = AuditEntry.objects.filter(
            actor=actor,
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
        request=request,
        action=action,
        actor=actor,
        object_type=object_type,
        object_id=object_id,
        patient_id=patient_id,
        detail=detail,
    )


__all__ = [
    "AuditAction",
    "AuditChannel",
    "audit_patient_access",
    "audit_read_coalesced",
    "audit_record",
    "client_ip",
]
