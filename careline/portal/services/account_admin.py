"""What staff do to a patient's portal account from the patient page: lock, unlock, sign out everywhere."""

from __future__ import annotations

from django.db.models import F
from django.utils import timezone

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.portal.models import AttemptKind, PortalAccount
from careline.portal.services import limits


def portal_account_lock(*, account: PortalAccount, actor: Actor) -> None:
    """Stop ACCOUNT signing in and end its sessions (its trusted devices are forgotten too)."""
    PortalAccount.objects.filter(pk=account.pk).update(
        locked_at=timezone.now(), session_generation=F("session_generation") + 1
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=account,
        patient_id=account.patient_id,
        detail="portal account locked",
    )


def portal_account_unlock(*, account: PortalAccount, actor: Actor) -> None:
    """Let ACCOUNT sign in again, and forget its wrong passwords."""
    PortalAccount.objects.filter(pk=account.pk).update(locked_at=None, is_active=True)
    for kind, value in (("email", account.email), ("phone", account.phone)):
        if value:
            limits.attempts_clear(kind=AttemptKind.PASSWORD_NAME, value=f"{kind}:{value}")
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=account,
        patient_id=account.patient_id,
        detail="portal account unlocked",
    )


def portal_account_sign_out_everywhere(*, account: PortalAccount, actor: Actor) -> None:
    """End every session of ACCOUNT and forget its trusted devices (a lost phone)."""
    PortalAccount.objects.filter(pk=account.pk).update(session_generation=F("session_generation") + 1)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=account,
        patient_id=account.patient_id,
        detail="portal account signed out everywhere",
    )
