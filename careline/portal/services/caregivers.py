"""Caregivers' access to a patient's record in the portal: granted by the patient (from the portal) or by
staff (with the patient's permission recorded), section by section, until an end date; revoked by either.

A caregiver who already has a portal account (by the caregiver's email or mobile number) is granted at once.
One without an account is invited: `portal_caregiver_invite` stores a `PortalGrantInvitation` (the link's
token hashed, 72 hours, single use) and sends the link through the messaging pipeline; accepting it
(`portal_grant_invitation_accept`) creates the account, or adds the grant to the account that signs in.
Granting again (new sections, a new end date) closes the open access and opens a new one from now, so a
parent's access re-granted after a teenager's birthday reopens the confidential sections (see access.py).
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_lazy

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.messaging.models import MessageKind
from careline.messaging.outbound.compose import MessageRefused, message_send
from careline.messaging.services.channels import channel_default
from careline.messaging.templating import template_render
from careline.patients.models import Caregiver, Patient, Purpose
from careline.portal.models import (
    ALL_SECTIONS,
    PortalAccess,
    PortalAccount,
    PortalGrantInvitation,
)
from careline.portal.models.grants import (
    GRANT_INVITATION_HOURS,
    GRANT_INVITATION_MAX_TRIES,
)
from careline.portal.services.invitations import token_hash

GRANTED_TEXT = gettext_lazy(
    "{clinic_name}: {first_name} shared part of their patient portal record with you. Sign in to see it: {link}"
)
INVITATION_TEXT = gettext_lazy(
    "{clinic_name}: {first_name} shared part of their patient portal record with you. "
    "Set up your access within 72 hours: {link}"
)


@dataclass(frozen=True)
class GrantOutcome:
    """What a grant did: an access opened now, or an invitation sent (with the link's token, shown once)."""

    access: PortalAccess | None = None
    invitation: PortalGrantInvitation | None = None
    token: str = ""


def _sections_checked(sections: Iterable[str]) -> list[str]:
    chosen = [code for code in ALL_SECTIONS if code in set(sections)]
    if not chosen:
        raise ValidationError(gettext("Choose at least one part of the record to share."))
    return chosen


def _ends_checked(ends_at: datetime | None) -> datetime | None:
    if ends_at is not None and ends_at <= timezone.now():
        raise ValidationError(gettext("Choose an end date in the future."))
    return ends_at


def caregiver_account(caregiver: Caregiver) -> PortalAccount | None:
    """The portal account CAREGIVER signs in with: one already granted as this caregiver, else the account of
    their email or mobile number (never the patient's own)."""
    granted = (
        PortalAccess.objects.filter(caregiver=caregiver).select_related("account").order_by("-pk").first()
    )
    if granted is not None:
        return granted.account
    match = Q()
    if caregiver.email:
        match |= Q(email=caregiver.email.lower())
    if caregiver.phone:
        match |= Q(phone=caregiver.phone)
    if not match:
        return None
    return PortalAccount.objects.filter(match).exclude(patient=caregiver.patient).first()


def _access_open(
    *,
    account: PortalAccount,
    patient: Patient,
    caregiver: Caregiver,
    sections: list[str],
    ends_at: datetime | None,
    actor: Actor,
    permission_recorded_by: Any,
    permission_recorded_at: datetime | None,
) -> PortalAccess:
    now = timezone.now()
    PortalAccess.objects.filter(account=account, patient=patient, revoked_at__isnull=True).update(
        revoked_at=now
    )
    access = PortalAccess.objects.create(
        account=account,
        patient=patient,
        caregiver=caregiver,
        sections=sections,
        starts_at=now,
        ends_at=ends_at,
        granted_by=actor.label,
        permission_recorded_by=permission_recorded_by,
        permission_recorded_at=permission_recorded_at,
    )
    audit_record(
        action=AuditAction.CREATE,
        actor=actor,
        obj=access,
        patient_id=patient.pk,
        detail=f"portal access granted to caregiver #{caregiver.pk}: {', '.join(sections)}",
    )
    return access


def portal_caregiver_grant(
    *,
    patient: Patient,
    caregiver: Caregiver,
    sections: Iterable[str],
    ends_at: datetime | None,
    actor: Actor,
    permission_recorded_by: Any = None,
) -> GrantOutcome:
    """Grant CAREGIVER (of PATIENT) SECTIONS until ENDS_AT: at once when they have an account, else by an
    invitation. Staff pass PERMISSION_RECORDED_BY (themselves, having recorded the patient's permission)."""
    if caregiver.patient_id != patient.pk:
        raise ValidationError("That caregiver is not this patient's.")
    if not caregiver.is_active:
        raise ValidationError(gettext("That caregiver is no longer active."))
    chosen = _sections_checked(sections)
    ends_at = _ends_checked(ends_at)
    recorded_at = timezone.now() if permission_recorded_by is not None else None
    account = caregiver_account(caregiver)
    if account is None:
        return portal_caregiver_invite(
            patient=patient,
            caregiver=caregiver,
            sections=chosen,
            ends_at=ends_at,
            actor=actor,
            permission_recorded_by=permission_recorded_by,
        )
    with transaction.atomic():
        access = _access_open(
            account=account,
            patient=patient,
            caregiver=caregiver,
            sections=chosen,
            ends_at=ends_at,
            actor=actor,
            permission_recorded_by=permission_recorded_by,
            permission_recorded_at=recorded_at,
        )
        _granted_notice_send(account=account, patient=patient)
    return GrantOutcome(access=access)


def _granted_notice_send(*, account: PortalAccount, patient: Patient) -> None:
    """Tell a caregiver's account that a record was shared with it (whose first name, never what is in it)."""
    from careline.portal.services.profile import portal_notice_send

    contact = account.email or account.phone
    if not contact:
        return
    with translation.override(account.language):
        text = template_render(
            str(GRANTED_TEXT),
            {
                "clinic_name": settings.CARELINE_CLINIC_NAME or gettext("Your clinic"),
                "first_name": patient.first_name,
                "link": f"{settings.PUBLIC_BASE_URL}{reverse('portal:signin')}",
            },
        )
    portal_notice_send(account=account, to_address=contact, text=text)


def portal_caregiver_invite(
    *,
    patient: Patient,
    caregiver: Caregiver,
    sections: Iterable[str],
    ends_at: datetime | None,
    actor: Actor,
    permission_recorded_by: Any = None,
) -> GrantOutcome:
    """Invite CAREGIVER to SECTIONS of PATIENT's record: a single-use link valid 72 hours, sent to their
    email or mobile number by the messaging pipeline. An earlier pending invitation of theirs is withdrawn.
    (The invitation helper's accept flow may reuse it: the token is returned once, only its hash is kept.)"""
    chosen = _sections_checked(sections)
    address = caregiver.email.lower() if caregiver.email else caregiver.phone
    if not address:
        raise ValidationError(gettext("Add the caregiver's email or mobile number first."))
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        PortalGrantInvitation.objects.filter(
            patient=patient, caregiver=caregiver, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        invitation = PortalGrantInvitation.objects.create(
            patient=patient,
            caregiver=caregiver,
            sections=chosen,
            access_ends_at=ends_at,
            token_hash=token_hash(token),
            sent_to=address,
            expires_at=now + timedelta(hours=GRANT_INVITATION_HOURS),
            granted_by=actor.label,
            permission_recorded_by=permission_recorded_by,
            permission_recorded_at=now if permission_recorded_by is not None else None,
        )
        audit_record(
            action=AuditAction.CREATE,
            actor=actor,
            obj=invitation,
            patient_id=patient.pk,
            detail=f"portal access: caregiver #{caregiver.pk} invited: {', '.join(chosen)}",
        )
        _invitation_send(invitation=invitation, token=token)
    return GrantOutcome(invitation=invitation, token=token)


def grant_invitation_link(token: str) -> str:
    """The absolute link a caregiver opens to accept a grant."""
    return f"{settings.PUBLIC_BASE_URL}{reverse('portal:caregiver_join', args=[token])}"


def _invitation_send(*, invitation: PortalGrantInvitation, token: str) -> None:
    kind = "email" if "@" in invitation.sent_to else "sms"
    channel = channel_default(kind)
    if channel is None:
        return
    patient = invitation.patient
    with translation.override(patient.language):
        body = template_render(
            str(INVITATION_TEXT),
            {
                "clinic_name": settings.CARELINE_CLINIC_NAME or gettext("Your clinic"),
                "first_name": patient.first_name,
                "link": grant_invitation_link(token),
            },
        )
        subject = gettext("Access to a patient portal record") if kind == "email" else ""
    with contextlib.suppress(MessageRefused):  # no channel for it: the audit trail has the change
        message_send(
            body=body,
            to_address=invitation.sent_to,
            channel=channel,
            kind=MessageKind.AUTOMATED,
            purpose=Purpose.GENERAL,
            subject=subject,
            idempotency_key=f"portal-grant-invitation:{invitation.pk}",
            sensitive=True,
        )


def portal_grant_invitation_for(token: str) -> PortalGrantInvitation | None:
    """The usable invitation of TOKEN (looked up by its hash), or None."""
    if not token or len(token) > 100:
        return None
    invitation = (
        PortalGrantInvitation.objects.filter(token_hash=token_hash(token))
        .select_related("patient", "caregiver")
        .first()
    )
    return invitation if invitation is not None and invitation.usable() else None


def portal_grant_invitation_accept(
    *, invitation: PortalGrantInvitation, password: str, language: str = "en"
) -> PortalAccount:
    """Accept INVITATION: the caregiver's existing account (their current PASSWORD) or a new one (PASSWORD
    checked by Django's validators) gets the access. Single use: a second call raises ValidationError."""
    try:
        return _invitation_accept(invitation=invitation, password=password, language=language)
    except ValidationError as error:
        if getattr(error, "code", None) == "wrong_password":
            # Counted outside the refused change; the fifth wrong password ends the invitation.
            PortalGrantInvitation.objects.filter(pk=invitation.pk).update(failed_tries=F("failed_tries") + 1)
            PortalGrantInvitation.objects.filter(
                pk=invitation.pk, failed_tries__gte=GRANT_INVITATION_MAX_TRIES, revoked_at__isnull=True
            ).update(revoked_at=timezone.now())
        raise


def _invitation_accept(*, invitation: PortalGrantInvitation, password: str, language: str) -> PortalAccount:
    address = invitation.sent_to
    kind = "email" if "@" in address else "phone"
    with transaction.atomic():
        claimed = PortalGrantInvitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        ).update(accepted_at=timezone.now())
        if not claimed:
            raise ValidationError(gettext("This link has expired or was already used."), code="used")
        account = PortalAccount.objects.select_for_update().filter(**{kind: address}).first()
        if account is not None:
            if not account.check_password(password):
                raise ValidationError(gettext("Your current password is not right."), code="wrong_password")
        else:
            validate_password(password)
            caregiver = invitation.caregiver
            account = PortalAccount(
                **{kind: address},
                display_name=caregiver.name.split()[0] if caregiver.name else address,
                language=language,
                activated_at=timezone.now(),
            )
            account.set_password(password)
            account.save()
        actor = Actor.caregiver(invitation.caregiver_id, patient_id=invitation.patient_id)
        _access_open(
            account=account,
            patient=invitation.patient,
            caregiver=invitation.caregiver,
            sections=list(invitation.sections),
            ends_at=invitation.access_ends_at,
            actor=actor,
            permission_recorded_by=invitation.permission_recorded_by,
            permission_recorded_at=invitation.permission_recorded_at,
        )
        PortalAccess.objects.filter(
            account=account, patient=invitation.patient, revoked_at__isnull=True
        ).update(granted_by=invitation.granted_by)
    return account


def portal_caregiver_revoke(*, patient: Patient, caregiver: Caregiver, actor: Actor) -> int:
    """Close CAREGIVER's portal access to PATIENT's record and withdraw pending invitations; how many closed."""
    now = timezone.now()
    with transaction.atomic():
        closed = PortalAccess.objects.filter(
            patient=patient, caregiver=caregiver, revoked_at__isnull=True
        ).update(revoked_at=now)
        withdrawn = PortalGrantInvitation.objects.filter(
            patient=patient, caregiver=caregiver, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        if closed or withdrawn:
            audit_record(
                action=AuditAction.UPDATE,
                actor=actor,
                obj=caregiver,
                patient_id=patient.pk,
                detail=f"portal access of caregiver #{caregiver.pk} revoked",
            )
    return closed + withdrawn
