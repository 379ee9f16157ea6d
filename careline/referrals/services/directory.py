"""The directory of outside providers: adding and editing them (administrators, or a role granted it)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.referrals.models import OutsideProvider

PROVIDER_FIELDS = (
    "name",
    "kind",
    "specialty",
    "services",
    "phone",
    "fax",
    "email",
    "address",
    "website",
    "languages",
    "insurance_accepted",
    "takes_texts",
    "takes_fax_referrals",
    "takes_email_referrals",
    "active",
)


def provider_save(
    *, values: dict[str, Any], actor: Actor, provider: OutsideProvider | None = None
) -> OutsideProvider:
    """Create a provider from VALUES (validated by the form), or change PROVIDER; audited."""
    creating = provider is None
    provider = provider or OutsideProvider()
    changed = [
        name for name in PROVIDER_FIELDS if name in values and getattr(provider, name, None) != values[name]
    ]
    for name in PROVIDER_FIELDS:
        if name in values:
            setattr(provider, name, values[name])
    provider.updated_at = timezone.now()
    provider.updated_by = actor.user
    with transaction.atomic():
        provider.save()
        audit_record(
            actor=actor,
            action=AuditAction.CREATE if creating else AuditAction.UPDATE,
            obj=provider,
            detail=f"outside provider {'added' if creating else 'changed'}: {', '.join(changed)}"[:500],
        )
    return provider
