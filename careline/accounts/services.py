"""Writes about staff: accounts, roles, two-factor devices, passwords and API tokens."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from careline.accounts import lockout
from careline.accounts.models import ApiToken, StaffRole, User, hash_token
from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.core.permissions import Role
from careline.locations.models import Location

MAX_TOKEN_DAYS = 3 * 365
ADMIN_MFA_REQUIRED_MESSAGE = (
    "An administrator's token needs two-factor sign-in: they set up an authenticator app first (Profile)."
)


class StaffRuleError(ValidationError):
    """A change to staff that the rules forbid (e.g. an administrator demoting themself)."""


def _set_roles(user: User, roles: Iterable[str]) -> None:
    wanted = {Role(role).value for role in roles}
    StaffRole.objects.filter(user=user).exclude(role__in=wanted).delete()
    for role in sorted(wanted - set(user.role_rows.values_list("role", flat=True))):
        StaffRole.objects.create(user=user, role=role)
    user.__dict__.pop("role_codes", None)  # drop the cached roles so the object reflects the change


def _email_taken(email: str, *, exclude_pk: int | None = None) -> bool:
    query = User.objects.filter(email__iexact=email)
    if exclude_pk is not None:
        query = query.exclude(pk=exclude_pk)
    return query.exists()


@transaction.atomic
def staff_create(
    *,
    email: str,
    full_name: str,
    title: str,
    roles: Iterable[str],
    locations: Iterable[Location],
    password: str,
    actor: Actor,
    mobile: str = "",
) -> User:
    """Create a staff account with its roles and locations; audited. MOBILE: E.164 or ""."""
    email = email.strip().lower()
    if _email_taken(email):
        raise StaffRuleError({"email": "Someone already has this email address."})
    user = User.objects.create_user(
        email, password, full_name=full_name.strip(), title=title.strip(), mobile=mobile.strip()
    )
    _set_roles(user, roles)
    user.locations.set(list(locations))
    audit_record(
        actor=actor,
        action=AuditAction.ADMIN,
        obj=user,
        detail=f"staff account created; roles: {', '.join(sorted(user.role_codes)) or 'none'}",
    )
    return user


@transaction.atomic
def staff_update(
    *,
    user: User,
    actor: Actor,
    email: str,
    full_name: str,
    title: str,
    roles: Iterable[str],
    locations: Iterable[Location],
    is_active: bool,
    new_password: str = "",
    mobile: str | None = None,
) -> User:
    """Change a staff account; an administrator may not deactivate themself or drop their own admin role."""
    roles = list(roles)
    if user.pk == actor.user_id:
        if not is_active:
            raise StaffRuleError({"is_active": "You cannot deactivate your own account."})
        if Role.ADMIN in user.role_codes and Role.ADMIN not in roles:
            raise StaffRuleError({"roles": "You cannot remove your own Administrator role."})
    email = email.strip().lower()
    if _email_taken(email, exclude_pk=user.pk):
        raise StaffRuleError({"email": "Someone else already has this email address."})
    changed: list[str] = []
    before_roles = set(user.role_codes)
    before_locations = set(user.location_ids)
    fields = [("email", email), ("full_name", full_name.strip()), ("title", title.strip())]
    if mobile is not None:  # None: left as it is (callers from before the field existed)
        fields.append(("mobile", mobile.strip()))
    for field, value in fields:
        if getattr(user, field) != value:
            setattr(user, field, value)
            changed.append(field)
    if user.is_active != is_active:
        user.is_active = is_active
        changed.append("active" if is_active else "deactivated")
    if new_password:
        user.set_password(new_password)
        changed.append("password")
    user.save()
    _set_roles(user, roles)
    if set(user.role_codes) != before_roles:
        changed.append(f"roles: {', '.join(sorted(user.role_codes)) or 'none'}")
    location_list = list(locations)
    user.locations.set(location_list)
    user.__dict__.pop("location_ids", None)
    if {location.pk for location in location_list} != before_locations:
        changed.append("locations")
    if changed:
        audit_record(
            actor=actor,
            action=AuditAction.ADMIN,
            obj=user,
            detail="; ".join(changed),
        )
    return user


def password_change(*, user: User, new_password: str, actor: Actor) -> None:
    """Set USER's own new password (already validated); audited without the password."""
    user.set_password(new_password)
    user.save(update_fields=["password"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=user,
        detail="own password changed",
    )


# --- two-factor devices ---------------------------------------------------------------------------------


def mfa_device_start(*, user: User) -> TOTPDevice:
    """The user's unconfirmed authenticator (created if needed), to be confirmed with a first code."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


@transaction.atomic
def mfa_device_confirm(*, device: TOTPDevice, actor: Actor) -> TOTPDevice:
    """Confirm DEVICE (its code was checked) and remove the user's other devices; audited."""
    user = device.user
    replaced = TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).exists()
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    audit_record(
        actor=actor,
        action=AuditAction.MFA,
        obj=user,
        detail="authenticator replaced" if replaced else "authenticator set up",
    )
    return device


@transaction.atomic
def mfa_device_reset(*, user: User, actor: Actor) -> int:
    """Remove every authenticator of USER (lost phone); they set up a new one at next sign-in. Audited."""
    if user.pk == actor.user_id:
        raise StaffRuleError("Use your profile to replace your own authenticator.")
    count, _ = TOTPDevice.objects.filter(user=user).delete()
    audit_record(
        actor=actor,
        action=AuditAction.MFA,
        obj=user,
        detail="authenticator reset",
    )
    return count


def account_unlock(
    *,
    user: User,
    actor: Actor,
    addresses: Iterable[str] = (),
) -> int:
    """Lift USER's sign-in locks (from every address) and their authenticator's wrong-code delay; audited.

    ADDRESSES: also clear those addresses' failures on every account (an address lock behind a clinic's NAT).
    """
    addresses = list(addresses)
    cleared = lockout.account_unlock(user.email)
    for address in addresses:
        cleared += lockout.address_unlock(address)
    audit_record(
        actor=actor,
        action=AuditAction.ADMIN,
        obj=user,
        detail=f"sign-in lock lifted; {cleared} failure record(s) cleared"
        + (f"; addresses {', '.join(addresses)}" if addresses else ""),
    )
    return cleared


# --- API tokens -----------------------------------------------------------------------------------------


@transaction.atomic
def api_token_create(
    *,
    user: User,
    name: str,
    actor: Actor,
    expires_in_days: int | None = None,
) -> tuple[ApiToken, str]:
    """A new API token acting as USER: returns the row and the secret, which is never stored or shown again.

    EXPIRES_IN_DAYS None: the token works until revoked. An administrator's token needs the administrator
    to have two-factor sign-in set up, as their own sign-in does.
    """
    if not user.is_active:
        raise StaffRuleError({"user": "This account is deactivated; it cannot have API tokens."})
    if user.is_admin and not user.has_confirmed_totp:
        raise StaffRuleError({"user": ADMIN_MFA_REQUIRED_MESSAGE})
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_TOKEN_DAYS:
        raise StaffRuleError({"expires_in_days": f"Choose 1 to {MAX_TOKEN_DAYS} days, or never."})
    name = name.strip()
    if not name:
        raise StaffRuleError({"name": "Give the token a name, e.g. the system that will use it."})
    secret = ApiToken.new_secret()
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        prefix=secret[:10],
        token_hash=hash_token(secret),
        created_by=actor.user,
        expires_at=timezone.now() + timedelta(days=expires_in_days) if expires_in_days is not None else None,
    )
    audit_record(
        actor=actor,
        action=AuditAction.ADMIN,
        obj=token,
        detail=f"API token created for {user.email}; "
        + (f"expires in {expires_in_days} days" if expires_in_days is not None else "no expiry"),
    )
    return token, secret


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: Actor) -> ApiToken:
    """Revoke TOKEN at once (idempotent); audited."""
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.revoked_by = actor.user
        token.save(update_fields=["revoked_at", "revoked_by"])
        audit_record(
            actor=actor,
            action=AuditAction.ADMIN,
            obj=token,
            detail=f"API token revoked (owner {token.user.email})",
        )
    return token


__all__ = [
    "StaffRuleError",
    "account_unlock",
    "api_token_create",
    "api_token_revoke",
    "mfa_device_confirm",
    "mfa_device_reset",
    "mfa_device_start",
    "password_change",
    "staff_create",
    "staff_update",
]


def staff_preferences_set(*, user: User, time_format: str, actor: Actor) -> None:
    """Save USER's own display preferences (how times are shown)."""
    user.time_format = time_format
    user.save(update_fields=["time_format"])
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=user, detail=f"own time format: {time_format}")
