"""Inviting patients to the portal, one at a time or in bulk, and accepting an invitation.

An invitation is a random token in a link; only its SHA-256 is stored. The link is single use, expires after
CARELINE_PORTAL_INVITATION_HOURS, and locks after five wrong answers to "date of birth and last name" (staff
send a new one). Sending a new invitation replaces the patient's open one.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.core.text import search_key
from careline.messaging.outbound.policy import patient_sms_number
from careline.patients.models import ContactPreference, Patient, Purpose
from careline.portal.models import (
    ALL_SECTIONS,
    ContactChannel,
    PortalAccess,
    PortalAccount,
    PortalInvitation,
    PortalInvitationBatch,
)
from careline.portal.models.signin import (
    BATCH_LOST_TASK_AFTER,
    BATCH_MAX_ATTEMPTS,
    BATCH_STALE_AFTER,
    INVITATION_MAX_FAILURES,
    OPEN_INVITATION,
)
from careline.portal.services.delivery import Delivery, DeliveryOutcome, delivery_of, portal_message_send

logger = logging.getLogger(__name__)


class InvitationRefused(ValueError):
    """The invitation cannot be sent as asked (no contact for it, an account already active)."""


@dataclass(frozen=True)
class InvitationSent:
    """The invitation made and what became of its message."""

    invitation: PortalInvitation
    delivery: DeliveryOutcome


def token_hash(token: str) -> str:
    """The SHA-256 (hex) a patient's or a caregiver's invitation stores for the token in its link."""
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_url(token: str) -> str:
    """The absolute link a patient opens for TOKEN."""
    return f"{settings.PUBLIC_BASE_URL}{reverse('portal:invite', kwargs={'token': token})}"


def invitation_channel_for(patient: Patient) -> str | None:
    """How PATIENT is invited: their general contact preference when it can reach them, else a text to their
    mobile, else email; None when there is no number or address at all."""
    preference = (
        ContactPreference.objects.filter(patient=patient, purpose=Purpose.GENERAL)
        .values_list("channel", flat=True)
        .first()
    )
    number = patient_sms_number(patient)
    if preference == ContactChannel.EMAIL and patient.email:
        return ContactChannel.EMAIL
    if number:
        return ContactChannel.SMS
    if patient.email:
        return ContactChannel.EMAIL
    return None


def invitation_text(patient: Patient, url: str) -> tuple[str, str]:
    """(subject, body) of the invitation in the patient's language: the clinic's name and the link only."""
    clinic = settings.CARELINE_CLINIC_NAME or "Careline"
    with translation.override(patient.language or "en"):
        subject = gettext("Your patient portal invitation")
        body = gettext(
            "%(clinic)s: create your patient portal account here: %(url)s This link works once, for %(hours)s hours."
        ) % {"clinic": clinic, "url": url, "hours": settings.CARELINE_PORTAL_INVITATION_HOURS}
    return subject, body


def patient_has_active_account(patient: Patient) -> bool:
    """Whether PATIENT already signs in to the portal."""
    account = PortalAccount.objects.filter(patient=patient).first()
    return account is not None and bool(account.password) and account.is_active


def portal_invitation_send(
    *,
    patient: Patient,
    actor: Actor,
    channel: str | None = None,
    batch: PortalInvitationBatch | None = None,
) -> InvitationSent:
    """Invite PATIENT by CHANNEL (their preferred one by default), replacing any open invitation.

    InvitationRefused when there is no number or address for it or the patient already has an account.
    """
    if patient_has_active_account(patient):
        raise InvitationRefused("This patient already has a portal account.")
    channel = channel or invitation_channel_for(patient)
    if channel == ContactChannel.EMAIL:
        address = patient.email
    elif channel == ContactChannel.SMS:
        address = patient_sms_number(patient) or ""
    else:
        address = ""
    if not address or channel is None:
        raise InvitationRefused("There is no mobile number or email address to send the invitation to.")
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        PortalInvitation.objects.filter(OPEN_INVITATION, patient=patient).update(revoked_at=now)
        invitation = PortalInvitation.objects.create(
            patient=patient,
            channel=channel,
            token_hash=token_hash(token),
            expires_at=now + timedelta(hours=settings.CARELINE_PORTAL_INVITATION_HOURS),
            created_by=actor.user,
            batch=batch,
        )
        subject, body = invitation_text(patient, invitation_url(token))
        delivery = portal_message_send(
            channel_kind=channel,
            address=address,
            patient=patient,
            body=body,
            subject=subject,
            subject_key=f"portal-invitation:{invitation.pk}",
            sensitive=True,
        )
        if delivery.message is not None:
            PortalInvitation.objects.filter(pk=invitation.pk).update(message=delivery.message)
            invitation.message = delivery.message
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=invitation,
            patient_id=patient.pk,
            detail=f"portal invitation by {channel}: {delivery.outcome}"
            + (f" ({delivery.reason})" if delivery.reason else ""),
        )
    return InvitationSent(invitation, delivery)


# --- accepting ------------------------------------------------------------------------------------------


def portal_invitation_find(token: str) -> PortalInvitation | None:
    """The invitation whose link carries TOKEN (any state), or None. Compared in constant time."""
    if not token or len(token) > 100:
        return None
    wanted = token_hash(token)
    invitation = PortalInvitation.objects.select_related("patient").filter(token_hash=wanted).first()
    if invitation is None or not hmac.compare_digest(invitation.token_hash, wanted):
        return None
    return invitation


def _names_match(typed: str, patient: Patient) -> bool:
    return hmac.compare_digest(search_key(typed).encode(), search_key(patient.legal_last_name).encode())


def portal_invitation_identity_check(
    *, invitation: PortalInvitation, date_of_birth: date, last_name: str, actor: Actor
) -> bool:
    """Whether DATE_OF_BIRTH and LAST_NAME (accents and case aside) are the invited patient's.

    A wrong answer is counted; the fifth locks the invitation (audited).
    """
    patient = invitation.patient
    # Both parts are always compared (no short cut), so the time taken does not tell which was wrong.
    right = (date_of_birth == patient.date_of_birth) & _names_match(last_name, patient)
    if right and invitation.is_usable:
        return True
    if not invitation.is_usable:
        return False
    with transaction.atomic():
        PortalInvitation.objects.filter(pk=invitation.pk).update(failed_checks=F("failed_checks") + 1)
        invitation.refresh_from_db()
        locked = invitation.failed_checks >= INVITATION_MAX_FAILURES and invitation.locked_at is None
        if locked:
            PortalInvitation.objects.filter(pk=invitation.pk, locked_at__isnull=True).update(
                locked_at=timezone.now()
            )
            invitation.refresh_from_db()
        audit_record(
            actor=actor,
            action=AuditAction.LOCKED_OUT if locked else AuditAction.LOGIN_FAILED,
            obj=invitation,
            patient_id=patient.pk,
            detail="portal invitation locked after wrong answers"
            if locked
            else "portal invitation: wrong date of birth or last name",
        )
    return False


class ContactTaken(ValueError):
    """The email or number chosen to sign in with is already another account's."""


def portal_invitation_accept(
    *,
    invitation: PortalInvitation,
    password: str,
    contact_kind: str,
    contact: str,
    request_actor: Actor,
) -> PortalAccount:
    """Make (or renew) the invited patient's own account: PASSWORD, signing in by CONTACT; the invitation is
    used up. ValueError when it no longer may be used; ContactTaken when CONTACT is another account's."""
    patient = invitation.patient
    now = timezone.now()
    with transaction.atomic():
        claimed = (
            PortalInvitation.objects.filter(OPEN_INVITATION, pk=invitation.pk, expires_at__gt=now)
            .select_for_update()
            .update(accepted_at=now)
        )
        if not claimed:
            raise ValueError("invitation no longer usable")
        account = PortalAccount.objects.filter(patient=patient).first()
        if account is None:
            account = PortalAccount(patient=patient)
        else:
            account.session_generation += 1  # anyone signed in with the old password is signed out
        # The account signs in by the one contact chosen; the other stays empty (never someone else's).
        account.email = contact if contact_kind == "email" else None
        account.phone = contact if contact_kind == "phone" else None
        account.display_name = patient.first_name
        account.language = patient.language
        account.is_active = True
        account.locked_at = None
        account.activated_at = account.activated_at or now
        account.set_password(password)
        try:
            with transaction.atomic():
                account.save()
        except IntegrityError:
            raise ContactTaken(contact) from None
        if (
            not PortalAccess.objects.current()
            .filter(account=account, patient=patient, caregiver=None)
            .exists()
        ):
            PortalAccess.objects.create(
                account=account, patient=patient, sections=list(ALL_SECTIONS), granted_by="invitation"
            )
        audit_record(
            actor=request_actor,
            action=AuditAction.CREATE,
            obj=account,
            patient_id=patient.pk,
            detail=f"portal invitation #{invitation.pk} accepted; signs in by {contact_kind}",
        )
    return account


# --- in bulk --------------------------------------------------------------------------------------------

BULK_LIMIT = 10_000
PROGRESS_EVERY = 25  # patients per chunk: one transaction, one heartbeat
RECOVER_LIMIT = 100  # jobs a recovery sweep takes over at most
FAILED_INTERRUPTED = (
    "The sending was interrupted %(times)s times and has stopped. The patients counted above were handled; "
    "start a new bulk invitation for the others."
)


def portal_invitation_batch_start(*, patient_ids: list[int], actor: Actor) -> PortalInvitationBatch:
    """Keep the chosen PATIENT_IDS as a job; its task sends each invitation after commit."""
    from careline.core.queue import task_enqueue

    ids = sorted(set(patient_ids))[:BULK_LIMIT]
    with transaction.atomic():
        batch = PortalInvitationBatch.objects.create(patient_ids=ids, total=len(ids), created_by=actor.user)
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=batch,
            detail=f"portal invitations to {len(ids)} patients",
        )
        transaction.on_commit(lambda: task_enqueue("portal.invitation_batch_run", batch.pk))
    return batch


def portal_invitation_batch_process(
    *, batch_id: int, attempt: int | None = None
) -> PortalInvitationBatch | None:
    """Send BATCH_ID's invitations, counting as it goes; None when the job is not this task's to run.

    Without ATTEMPT (the job's own task) the waiting job is claimed first, so a repeated task does nothing.
    With ATTEMPT (the recovery sweep claimed it already) the job runs only while that claim is its latest.
    """
    rows = PortalInvitationBatch.objects.filter(pk=batch_id)
    if attempt is None:
        claimed = rows.filter(state=PortalInvitationBatch.State.PENDING).update(
            state=PortalInvitationBatch.State.RUNNING, attempts=F("attempts") + 1, heartbeat_at=timezone.now()
        )
        if not claimed:
            return None
        attempt = rows.values_list("attempts", flat=True).get()
    batch = PortalInvitationBatch.objects.select_related("created_by").filter(pk=batch_id).first()
    if batch is None:
        return None
    actor = Actor.staff(batch.created_by) if batch.created_by else Actor.system("portal invitations")
    try:
        while True:
            # One chunk: its invitations, messages, counts, cursor and heartbeat commit together, so a
            # worker that dies loses (and sends) nothing of its chunk, and the next attempt starts there.
            with transaction.atomic():
                current = rows.select_for_update().first()
                if (
                    current is None
                    or current.state != PortalInvitationBatch.State.RUNNING
                    or current.attempts != attempt
                ):
                    return None  # taken over by the sweep after this worker was thought dead, or failed
                start = current.processed
                chunk = batch.patient_ids[start : start + PROGRESS_EVERY]
                now = timezone.now()
                if not chunk:
                    rows.update(state=PortalInvitationBatch.State.DONE, finished_at=now, heartbeat_at=now)
                    break
                counts = _batch_chunk_send(batch, chunk, actor)
                rows.update(
                    processed=start + len(chunk),
                    heartbeat_at=timezone.now(),
                    **{name: F(name) + number for name, number in counts.items()},
                )
    except Exception:
        # Leave the job to the recovery sweep: it resumes after this chunk's rollback, or fails the job once
        # it has been tried BATCH_MAX_ATTEMPTS times. (The error goes to the worker's log.)
        rows.filter(state=PortalInvitationBatch.State.RUNNING, attempts=attempt).update(heartbeat_at=None)
        raise
    batch.refresh_from_db()
    return batch


def _batch_chunk_send(batch: PortalInvitationBatch, chunk: list[int], actor: Actor) -> Counter[str]:
    """Invite each patient of CHUNK once for BATCH; counts by outcome ('sent', 'held', 'suppressed', 'skipped')."""
    counts: Counter[str] = Counter()
    # A patient this batch invited already keeps that invitation (a second would replace its link).
    already = {
        invitation.patient_id: invitation
        for invitation in PortalInvitation.objects.filter(batch=batch, patient_id__in=chunk).select_related(
            "message"
        )
    }
    patients = {
        patient.pk: patient
        for patient in Patient.objects.select_related("primary_location")
        .filter(pk__in=[pk for pk in chunk if pk not in already])
        .prefetch_related("phones")
    }
    for patient_id in chunk:
        done = already.get(patient_id)
        if done is not None:
            counts[delivery_of(done.message).outcome if done.message else Delivery.SUPPRESSED] += 1
            continue
        patient = patients.get(patient_id)
        if patient is None:
            counts["skipped"] += 1  # removed since the job was made
            continue
        try:
            sent = portal_invitation_send(patient=patient, actor=actor, batch=batch)
        except InvitationRefused:
            counts["skipped"] += 1
        else:
            counts[sent.delivery.outcome] += 1
    return counts


def portal_invitation_batches_recover(*, now: datetime | None = None) -> dict[str, int]:
    """Take over bulk invitation jobs whose task was lost (waiting) or whose worker died (no heartbeat).

    Each is claimed for a new attempt and its task queued again (it resumes at its cursor); one already tried
    BATCH_MAX_ATTEMPTS times is failed with the reason shown on its page. Safe to run on many hosts at once:
    rows are locked, skipping those another sweep or a live worker holds, and each claim is a conditional
    UPDATE on the attempt it saw.
    """
    now = now or timezone.now()
    lost = Q(state=PortalInvitationBatch.State.PENDING, created_at__lt=now - BATCH_LOST_TASK_AFTER)
    dead = Q(state=PortalInvitationBatch.State.RUNNING) & (
        Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=now - BATCH_STALE_AFTER)
    )
    due = PortalInvitationBatch.objects.filter(lost | dead).order_by("pk")
    resumed: list[tuple[int, int]] = []
    failed = 0
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        for batch_id, attempts in list(due.values_list("pk", "attempts")[:RECOVER_LIMIT]):
            mine = PortalInvitationBatch.objects.filter(lost | dead, pk=batch_id, attempts=attempts)
            if attempts >= BATCH_MAX_ATTEMPTS:
                failed += mine.update(
                    state=PortalInvitationBatch.State.FAILED,
                    finished_at=now,
                    failure_reason=FAILED_INTERRUPTED % {"times": attempts},
                )
            elif mine.update(
                state=PortalInvitationBatch.State.RUNNING, attempts=attempts + 1, heartbeat_at=now
            ):
                resumed.append((batch_id, attempts + 1))
    for batch_id, attempt in resumed:
        logger.warning(
            "portal invitation batch %s: taken over by the recovery sweep (attempt %s)", batch_id, attempt
        )
        _batch_enqueue(batch_id, attempt)
    return {"resumed": len(resumed), "failed": failed}


def _batch_enqueue(batch_id: int, attempt: int) -> None:
    from careline.core.queue import task_enqueue

    task_enqueue("portal.invitation_batch_run", batch_id, attempt)
