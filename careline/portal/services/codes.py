"""One-time codes: six digits by text or email, for signing in without a password, as the second step of a
sign-in from a new device, and to reset a password.

A code is stored as a keyed hash with a salt of its own; it lasts CARELINE_PORTAL_CODE_MINUTES, works once
and dies after five wrong tries. A contact (and an address) may ask for CARELINE_PORTAL_CODES_PER_HOUR
codes an hour, counted whether or not an account uses the contact, so the answer never tells.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.portal.models import PortalAccount, PortalCode
from careline.portal.models.signin import CODE_MAX_TRIES
from careline.portal.services import limits
from careline.portal.services.delivery import DeliveryOutcome, portal_message_send

CODE_DIGITS = 6


class CodeRequest:
    """What became of a request for a code, as far as the page may say."""

    ACCEPTED = "accepted"  # generic: "if an account uses it, a code is on its way"
    LIMITED = "limited"  # too many codes asked for lately


@dataclass(frozen=True)
class CodeIssued:
    """The answer to a request for a code: the generic outcome, and (for callers that may tell) the delivery."""

    outcome: str
    delivery: DeliveryOutcome | None = None


def code_hash(salt: str, code: str) -> str:
    return salted_hmac("careline.portal.code", f"{salt}:{code}", algorithm="sha256").hexdigest()


def account_by_contact(kind: str, value: str) -> PortalAccount | None:
    """The account that signs in by VALUE (an email when KIND is 'email', else an E.164 number)."""
    field = "email" if kind == "email" else "phone"
    return PortalAccount.objects.filter(**{field: value}).select_related("patient").first()


def account_actor(account: PortalAccount, *, request: HttpRequest | None = None) -> Actor:
    """Who the audit trail names for ACCOUNT outside a session: the patient, else the caregiver it acts for."""
    access = account.accesses.current().order_by(F("caregiver_id").asc(nulls_first=True), "pk").first()
    if access is None:
        return Actor.system(f"portal account #{account.pk}")
    if access.caregiver_id is None:
        return Actor.patient(access.patient_id, request=request)
    return Actor.caregiver(access.caregiver_id, patient_id=access.patient_id, request=request)


def code_text(account: PortalAccount, code: str, purpose: str) -> tuple[str, str]:
    """(subject, body) of a code message in the account's language: the code and what not to do with it."""
    clinic = settings.CARELINE_CLINIC_NAME or "Careline"
    with translation.override(account.language or "en"):
        subject = gettext("Your patient portal code")
        body = gettext(
            "%(clinic)s: your patient portal code is %(code)s. It works for %(minutes)s minutes. "
            "Never share it: the clinic will never ask for it."
        ) % {"clinic": clinic, "code": code, "minutes": settings.CARELINE_PORTAL_CODE_MINUTES}
    return subject, body


def portal_code_issue(*, account: PortalAccount, kind: str, contact: str, purpose: str) -> DeliveryOutcome:
    """Make a code for ACCOUNT and PURPOSE, send it to CONTACT (KIND 'email' or 'phone'); earlier open codes
    of the same contact and purpose stop working. Audited."""
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    salt = secrets.token_hex(16)
    now = timezone.now()
    with transaction.atomic():
        PortalCode.objects.filter(contact=contact, purpose=purpose, used_at__isnull=True).update(used_at=now)
        row = PortalCode.objects.create(
            account=account,
            contact=contact,
            purpose=purpose,
            salt=salt,
            code_hash=code_hash(salt, code),
            expires_at=now + timedelta(minutes=settings.CARELINE_PORTAL_CODE_MINUTES),
        )
        subject, body = code_text(account, code, purpose)
        delivery = portal_message_send(
            channel_kind="email" if kind == "email" else "sms",
            address=contact,
            patient=account.patient,
            body=body,
            subject=subject,
            subject_key=f"portal-code:{row.pk}",
            urgent=True,
            sensitive=True,
        )
        if delivery.message is not None:
            PortalCode.objects.filter(pk=row.pk).update(message=delivery.message)
        audit_record(
            actor=account_actor(account),
            action=AuditAction.MFA,
            obj=row,
            patient_id=account.patient_id,
            detail=f"portal code for {purpose} by {kind}: {delivery.outcome}"
            + (f" ({delivery.reason})" if delivery.reason else ""),
        )
    return delivery


def portal_code_request(
    *, kind: str, contact: str, purpose: str, address: str | None, account: PortalAccount | None = None
) -> CodeIssued:
    """A visitor asks for a code for PURPOSE at CONTACT. Counted first (whoever owns CONTACT); a code goes
    only when an account that may use it signs in by CONTACT (or is ACCOUNT, already identified)."""
    if limits.codes_blocked(contact=contact, address=address):
        audit_record(
            actor=Actor.system("portal-sign-in"),
            action=AuditAction.LOCKED_OUT,
            object_type="portal.portalcode",
            detail=f"portal codes for {purpose}: too many asked for",
        )
        return CodeIssued(CodeRequest.LIMITED)
    limits.code_request_record(contact=contact, address=address)
    account = account or account_by_contact(kind, contact)
    if account is None or not account.is_active or account.locked_at is not None:
        return CodeIssued(CodeRequest.ACCEPTED)
    if not account.password:
        return CodeIssued(CodeRequest.ACCEPTED)  # not yet activated: the invitation comes first
    return CodeIssued(
        CodeRequest.ACCEPTED, portal_code_issue(account=account, kind=kind, contact=contact, purpose=purpose)
    )


# A hash computed when no code is open, so a miss takes as long as a wrong code.
_NO_CODE_SALT = "0" * 32


def portal_code_verify(*, contact: str, purpose: str, code: str) -> PortalCode | None:
    """The open code for CONTACT and PURPOSE if CODE is it (then used up), else None (the try is counted)."""
    typed = "".join(ch for ch in (code or "") if ch.isdigit())[:CODE_DIGITS]
    now = timezone.now()
    row = (
        PortalCode.objects.filter(
            contact=contact,
            purpose=purpose,
            used_at__isnull=True,
            expires_at__gt=now,
            tries__lt=CODE_MAX_TRIES,
        )
        .select_related("account", "account__patient")
        .order_by("-created_at", "-pk")
        .first()
    )
    if row is None:
        hmac.compare_digest(code_hash(_NO_CODE_SALT, typed), code_hash(_NO_CODE_SALT, "x"))
        return None
    counted = PortalCode.objects.filter(pk=row.pk, tries__lt=CODE_MAX_TRIES, used_at__isnull=True).update(
        tries=F("tries") + 1
    )
    if not counted or not hmac.compare_digest(code_hash(row.salt, typed), row.code_hash):
        if row.account is not None:
            audit_record(
                actor=account_actor(row.account),
                action=AuditAction.LOGIN_FAILED,
                obj=row,
                patient_id=row.account.patient_id,
                detail=f"portal code for {purpose}: wrong code",
            )
        return None
    if not PortalCode.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=now):
        return None  # used by a request a moment ago
    return row
