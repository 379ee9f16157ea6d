"""Every sign-in, failed sign-in and sign-out goes to the audit trail."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record


# Signing in and out happens on the web (an API request carries a token and never a session): a staff member.
@receiver(user_logged_in)
def audit_sign_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    audit_record(actor=Actor.staff(user, request=request), action=AuditAction.LOGIN, obj=user)


@receiver(user_login_failed)
def audit_failed_sign_in(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    attempted = str(credentials.get("username") or credentials.get("email") or "")[:254]
    locked = bool(getattr(request, "axes_locked_out", False))
    # The two-factor step sends this signal too (so wrong codes count toward the lockout) and says so.
    reason = str(credentials.get("careline_reason") or "wrong email or password")
    audit_record(
        request=request,
        action=AuditAction.LOCKED_OUT if locked else AuditAction.LOGIN_FAILED,
        actor_label=attempted,
        detail=f"account locked after repeated failures ({reason})" if locked else reason,
    )


@receiver(user_logged_out)
def audit_sign_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit_record(actor=Actor.staff(user, request=request), action=AuditAction.LOGOUT, obj=user)
