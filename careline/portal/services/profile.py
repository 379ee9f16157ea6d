"""The portal account's own settings: contact details, password, language, sessions, and, for a patient's
own account, the patient's contact preferences and text consent (written through patients' services with
the patient as actor, so staff see the same rows and ledger).

Changing the email, the mobile number or the password needs the current password and tells the OLD contact,
through the messaging pipeline, that the portal contact changed (nothing more). A password change raises the
account's session generation: every other session of the account ends; the caller keeps its own.
"""

from __future__ import annotations

import contextlib

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.core.phones import parse_phone
from careline.messaging.models import MessageKind
from careline.messaging.outbound.compose import MessageRefused, message_send
from careline.messaging.services.channels import channel_default
from careline.patients.models import ConsentKind, ConsentMethod, Patient, PatientPhone, PhoneKind, Purpose
from careline.patients.services.registry import (
    consent_record,
    contact_preference_set,
    patient_phone_add,
    patient_phone_set_primary,
    patient_update,
)
from careline.portal.models import PortalAccount

CONTACT_CHANGED_TEXT = gettext_lazy("Your patient portal contact was changed. Call us if this was not you.")
PASSWORD_CHANGED_TEXT = gettext_lazy("Your patient portal password was changed. Call us if this was not you.")
# The purposes a patient chooses a channel for in the portal (marketing stays with staff).
PORTAL_PURPOSES = (Purpose.APPOINTMENTS, Purpose.CARE, Purpose.BILLING, Purpose.GENERAL)


class WrongPassword(ValidationError):
    """The current password given with a change of contact or password was not the account's."""


def _password_checked(account: PortalAccount, current_password: str) -> None:
    if not account.check_password(current_password or ""):
        raise WrongPassword(gettext("Your current password is not right."), code="wrong_password")


def portal_notice_send(*, account: PortalAccount, to_address: str, text: str | Promise) -> None:
    """Tell TO_ADDRESS (an email or an E.164 number) TEXT in the account's language, through the pipeline."""
    kind = "email" if "@" in to_address else "sms"
    channel = channel_default(kind)
    if channel is None:
        return
    with translation.override(account.language):
        body = str(text)
    with contextlib.suppress(MessageRefused):  # no channel for it: the audit trail has the change
        message_send(
            body=body,
            patient=account.patient,
            to_address=to_address,
            channel=channel,
            kind=MessageKind.AUTOMATED,
            purpose=Purpose.GENERAL,
            subject=body if kind == "email" else "",
        )


def portal_contact_change(
    *,
    account: PortalAccount,
    actor: Actor,
    current_password: str,
    email: str | None,
    phone: str | None,
) -> list[str]:
    """Set ACCOUNT's sign-in email and mobile number (None: none); the names changed. Needs the password;
    each old contact that changed is told. For a patient's own account the patient's record follows."""
    _password_checked(account, current_password)
    email = (email or "").strip().lower() or None
    phone = parse_phone(phone) if phone else None
    if email is None and phone is None:
        raise ValidationError(gettext("Keep an email address or a mobile number to sign in with."))
    others = PortalAccount.objects.exclude(pk=account.pk)
    if email and others.filter(email=email).exists():
        raise ValidationError(gettext("That email address cannot be used. Choose another."), code="taken")
    if phone and others.filter(phone=phone).exists():
        raise ValidationError(gettext("That mobile number cannot be used. Choose another."), code="taken")
    old = {"email": account.email, "phone": account.phone}
    changed = [name for name, value in (("email", email), ("phone", phone)) if old[name] != value]
    if not changed:
        return []
    with transaction.atomic():
        PortalAccount.objects.filter(pk=account.pk).update(email=email, phone=phone)
        account.email, account.phone = email, phone
        audit_record(
            action=AuditAction.UPDATE,
            actor=actor,
            obj=account,
            patient_id=account.patient_id,
            detail=f"portal contact: {', '.join(changed)}",
        )
        if account.patient is not None:
            _patient_contact_follow(account.patient, actor=actor, email=email, phone=phone, changed=changed)
        for name in changed:
            if old[name]:
                portal_notice_send(account=account, to_address=str(old[name]), text=CONTACT_CHANGED_TEXT)
    return changed


def _patient_contact_follow(
    patient: Patient, *, actor: Actor, email: str | None, phone: str | None, changed: list[str]
) -> None:
    """The patient's record takes the new email, and the new mobile number as its primary one."""
    if "email" in changed and email:
        patient_update(patient=patient, actor=actor, changes={"email": email})
    if "phone" in changed and phone:
        existing = PatientPhone.objects.filter(patient=patient, number=phone).first()
        if existing is None:
            patient_phone_add(
                patient=patient, number=phone, actor=actor, kind=PhoneKind.MOBILE, is_primary=True
            )
        elif not existing.is_primary:
            patient_phone_set_primary(phone=existing, actor=actor)


def portal_password_change(
    *, account: PortalAccount, actor: Actor, current_password: str, new_password: str
) -> int:
    """Set ACCOUNT's password (Django's validators), sign out its other sessions and tell its contact.
    Returns the new session generation, for the caller's own session to keep."""
    _password_checked(account, current_password)
    validate_password(new_password)
    with transaction.atomic():
        account.set_password(new_password)
        PortalAccount.objects.filter(pk=account.pk).update(
            password=account.password, session_generation=F("session_generation") + 1
        )
        account.refresh_from_db(fields=["session_generation"])
        audit_record(
            action=AuditAction.UPDATE,
            actor=actor,
            obj=account,
            patient_id=account.patient_id,
            detail="portal password changed; other sessions signed out",
        )
        contact = account.email or account.phone
        if contact:
            portal_notice_send(account=account, to_address=contact, text=PASSWORD_CHANGED_TEXT)
    return account.session_generation


def portal_sessions_end(*, account: PortalAccount, actor: Actor) -> int:
    """Sign ACCOUNT out everywhere else; the new session generation (the caller's session keeps it)."""
    with transaction.atomic():
        PortalAccount.objects.filter(pk=account.pk).update(session_generation=F("session_generation") + 1)
        account.refresh_from_db(fields=["session_generation"])
        audit_record(
            action=AuditAction.UPDATE,
            actor=actor,
            obj=account,
            patient_id=account.patient_id,
            detail="portal: signed out everywhere",
        )
    return account.session_generation


def portal_language_set(*, account: PortalAccount, actor: Actor, language: str) -> None:
    """The account's language, and for a patient's own account the patient's preferred language too."""
    with transaction.atomic():
        if account.language != language:
            PortalAccount.objects.filter(pk=account.pk).update(language=language)
            account.language = language
            audit_record(
                action=AuditAction.UPDATE,
                actor=actor,
                obj=account,
                patient_id=account.patient_id,
                detail="portal language",
            )
        if account.patient is not None and account.patient.language != language:
            patient_update(patient=account.patient, actor=actor, changes={"language": language})


def portal_preferences_set(*, patient: Patient, actor: Actor, channels: dict[str, str]) -> list[str]:
    """PATIENT's channel per purpose (appointments, care, billing, general); the purposes that changed."""
    current = dict(patient.contact_preferences.values_list("purpose", "channel"))
    changed = []
    with transaction.atomic():
        for purpose in PORTAL_PURPOSES:
            channel = channels.get(purpose)
            if channel and current.get(purpose) != channel:
                contact_preference_set(patient=patient, purpose=purpose, channel=channel, actor=actor)
                changed.append(str(purpose))
    return changed


def portal_text_consent_set(*, patient: Patient, actor: Actor, phone_number: str, given: bool) -> None:
    """Record in the consent ledger that PATIENT gives (or withdraws) consent to texts at PHONE_NUMBER, by
    the portal. The number must be one of the patient's."""
    phone = PatientPhone.objects.filter(patient=patient, number=phone_number).first()
    if phone is None:
        raise ValidationError(gettext("Choose one of your numbers."))
    if phone.kind == PhoneKind.LANDLINE:
        raise ValidationError(gettext("That number cannot receive texts."))
    consent_record(
        phone_number=phone_number,
        kind=ConsentKind.GIVEN if given else ConsentKind.REVOKED,
        method=ConsentMethod.PORTAL,
        patient=patient,
        actor=actor,
        note="patient portal",
    )
