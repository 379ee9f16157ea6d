"""Write to the audit trail. Every read or change of a patient's data by a person goes through here."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.http import HttpRequest

from careline.core.models import AuditAction, AuditChannel, AuditEntry


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address as Django sees it (behind a proxy, configure the proxy to set REMOTE_ADDR)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


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
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
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


__all__ = ["AuditAction", "AuditChannel", "audit_patient_access", "audit_record"]
