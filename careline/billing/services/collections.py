"""The collections sequence after a statement: planned follow-ups, stopped the moment they no longer apply.

Issuing a statement (`StatementIssued`) plans one `FollowUp` per active `FollowUpStep`. The sweep acts on due
follow-ups under the patient's row lock, the lock `payment_record` takes, after checking that the account is
still owed and in the sequence (`followup_stop_reason`); a payment recorded first stops them (the
`PaymentRecorded` listener, in the payment's transaction) and withdraws any reminder text still waiting, and
the dispatcher's subject check catches a reminder already claimed by a worker. So no follow-up goes out after
a payment that settles the account is recorded.

Texts say the clinic's name and a pay link only: never services, diagnoses or (here) amounts.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from careline.billing.events import PaymentRecorded, StatementIssued
from careline.billing.models import (
    BillingTask,
    Dispute,
    FollowUp,
    FollowUpAction,
    FollowUpState,
    FollowUpStep,
    PaymentPlan,
    PlanState,
    Statement,
    StatementChannel,
    StatementState,
    TaskKind,
)
from careline.billing.paylinks import pay_link_url
from careline.billing.queries import balance_of_patients, statement_balance
from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.core.rowcopy import rows_copy
from careline.messaging.models import Message, MessageKind, MessageState
from careline.messaging.outbound.compose import MessageRefused, message_send, messages_withdraw_for_subject
from careline.messaging.outbound.policy import patient_text_reason
from careline.messaging.services.channels import channel_default
from careline.messaging.template_values import clinic_name_for
from careline.patients.events import ConsentChanged
from careline.patients.models import Patient, Purpose

logger = logging.getLogger(__name__)

SUBJECT_PREFIX = "billing-followup"
SWEEP_BATCH = 200


class StopReason:
    PAID = "Paid in full"
    PLAN = "A payment plan is active"
    DISPUTE = "The patient disputes the bill"
    SUPERSEDED = "A newer statement replaced this one"
    VOIDED = "The statement was voided"
    DECEASED = "The patient is deceased"
    OPTED_OUT = "The patient opted out of billing texts"


def subject_key(followup: FollowUp | int) -> str:
    return f"{SUBJECT_PREFIX}:{followup if isinstance(followup, int) else followup.pk}"


def _lock_patient(patient_id: int) -> None:
    Patient.objects.select_for_update().filter(pk=patient_id).values_list("pk", flat=True).first()


# --- planning ------------------------------------------------------------------------------------------


def followups_plan(statement: Statement) -> list[FollowUp]:
    """Plan STATEMENT's follow-ups from the active steps (once: planning again adds nothing)."""
    steps = list(FollowUpStep.objects.filter(is_active=True))
    rows = [
        FollowUp(
            statement=statement,
            patient_id=statement.patient_id,
            action=step.action,
            days_after=step.days_after,
            due_at=statement.issued_at + timedelta(days=step.days_after),
        )
        for step in steps
    ]
    FollowUp.objects.bulk_create(rows, ignore_conflicts=True)
    return list(FollowUp.objects.filter(statement=statement))


def followups_stop(*, patient_id: int, reason: str, statement_id: int | None = None) -> int:
    """Stop every planned follow-up of PATIENT_ID (of one statement when STATEMENT_ID), withdrawing any reminder
    text still waiting; how many were stopped."""
    planned = FollowUp.objects.filter(patient_id=patient_id, state=FollowUpState.PLANNED)
    if statement_id is not None:
        planned = planned.filter(statement_id=statement_id)
    now = timezone.now()
    stopped = planned.update(state=FollowUpState.STOPPED, outcome=reason[:200], finished_at=now)
    # Reminders already written but not gone (held for quiet hours, waiting for a retry).
    sent = FollowUp.objects.filter(
        patient_id=patient_id, state=FollowUpState.DONE, message_id__isnull=False
    ).values_list("pk", flat=True)
    for followup_id in sent:
        messages_withdraw_for_subject(subject_key=subject_key(followup_id), reason=reason)
    return stopped


def followup_stop_reason(statement: Statement, *, patient: Patient | None = None) -> str:
    """Why STATEMENT's sequence must not act now ('' when it may): paid, plan, dispute, superseded, deceased."""
    if statement.state == StatementState.SUPERSEDED:
        return StopReason.SUPERSEDED
    if statement.state == StatementState.VOIDED:
        return StopReason.VOIDED
    patient = patient or statement.patient
    if patient.is_deceased:
        return StopReason.DECEASED
    if PaymentPlan.objects.filter(patient_id=statement.patient_id, state=PlanState.ACTIVE).exists():
        return StopReason.PLAN
    if Dispute.objects.filter(patient_id=statement.patient_id, resolved_at__isnull=True).exists():
        return StopReason.DISPUTE
    if statement_balance(statement).due <= 0:  # a guarantor's statement: every account it lists
        return StopReason.PAID
    return ""


# --- listeners (billing's own events) ------------------------------------------------------------------------


def followups_on_statement_issued(event: StatementIssued) -> None:
    """A new statement replaces the sequence of the older ones and starts its own (in its transaction)."""
    statement = Statement.objects.get(pk=event.statement_id)
    older = FollowUp.objects.filter(patient_id=event.patient_id, state=FollowUpState.PLANNED).exclude(
        statement_id=event.statement_id
    )
    older.update(state=FollowUpState.STOPPED, outcome=StopReason.SUPERSEDED, finished_at=timezone.now())
    if statement.state == StatementState.ISSUED and event.amount_due_cents > 0:
        followups_plan(statement)


def followups_on_statements_issued(events: list[StatementIssued]) -> None:
    """`followups_on_statement_issued` for many statements at once (a statement run's chunk): one update
    stops the older sequences, one insert plans the new ones."""
    ids = [event.statement_id for event in events]
    now = timezone.now()
    FollowUp.objects.filter(
        patient_id__any_of=[event.patient_id for event in events], state=FollowUpState.PLANNED
    ).exclude(statement_id__any_of=ids).update(
        state=FollowUpState.STOPPED, outcome=StopReason.SUPERSEDED, finished_at=now
    )
    owing = {event.statement_id for event in events if event.amount_due_cents > 0}
    steps = list(FollowUpStep.objects.filter(is_active=True).values_list("action", "days_after"))
    if not owing or not steps:
        return
    issued = Statement.objects.filter(pk__any_of=owing, state=StatementState.ISSUED).values_list(
        "pk", "patient_id", "issued_at"
    )
    # The statements were issued in this transaction: none of them has follow-ups yet (COPY has no
    # ON CONFLICT; planning one statement again goes through `followups_plan`).
    rows_copy(
        FollowUp,
        ("statement_id", "patient_id", "action", "days_after", "due_at", "state"),
        (
            (pk, patient_id, action, days, issued_at + timedelta(days=days), FollowUpState.PLANNED.value)
            for pk, patient_id, issued_at in issued
            for action, days in steps
        ),
    )


def followups_on_payment(event: PaymentRecorded) -> None:
    """A payment that settles the account stops the sequence at once (inside the payment's transaction)."""
    from careline.billing.services.guarantors import dependants_of, guarantor_of

    guarantor = guarantor_of(event.patient_id)
    holder_id = guarantor.pk if guarantor is not None else event.patient_id
    group = [holder_id, *dependants_of(holder_id)]
    if balance_of_patients(group).due <= 0:
        followups_stop(patient_id=holder_id, reason=StopReason.PAID)
        if holder_id != event.patient_id:
            followups_stop(patient_id=event.patient_id, reason=StopReason.PAID)


def followups_on_consent_changed(event: ConsentChanged) -> None:
    """Billing texts withdrawn (STOP or billing consent revoked) and no email to remind by: the reminder steps
    stop at once; call tasks and reviews stay (billing staff may still call)."""
    from careline.patients.models import ConsentEvent

    if event.patient_id is not None:
        patients = list(Patient.objects.filter(pk=event.patient_id))
    else:  # recorded against the number: every patient texted at it
        number = (
            ConsentEvent.objects.filter(pk=event.consent_event_id)
            .values_list("phone_number", flat=True)
            .first()
        )
        patients = list(Patient.objects.filter(phones__number=number).distinct()) if number else []
    for patient in patients:
        _stop_text_steps(patient)


def _stop_text_steps(patient: Patient) -> None:
    if not patient_text_reason(patient, purpose=Purpose.BILLING):
        return
    if patient.email and not patient.confidential_communications:
        return  # reminders go by email instead (reminder_channel decides at send time)
    texting = FollowUp.objects.filter(
        patient_id=patient.pk,
        state=FollowUpState.PLANNED,
        action__in=(FollowUpAction.REMINDER, FollowUpAction.SECOND_CHANNEL),
    )
    texting.update(state=FollowUpState.STOPPED, outcome=StopReason.OPTED_OUT, finished_at=timezone.now())


def followup_texts_stale(messages: Sequence[Message]) -> dict[int, str]:
    """The dispatcher's last check before a reminder goes: {message id: reason} for those that must not."""
    ids: dict[int, list[int]] = {}
    for message in messages:
        try:
            ids.setdefault(int(message.subject_key.split(":", 1)[1]), []).append(message.pk)
        except (IndexError, ValueError):
            continue
    stale: dict[int, str] = {}
    for followup in FollowUp.objects.filter(pk__in=ids).select_related("statement", "statement__patient"):
        reason = followup_stop_reason(followup.statement)
        if followup.state == FollowUpState.STOPPED:
            reason = reason or followup.outcome or "Stopped"
        if reason:
            for message_id in ids[followup.pk]:
                stale[message_id] = reason
    return stale


# --- acting ---------------------------------------------------------------------------------------------------


def _payer(statement: Statement) -> Patient:
    return statement.guarantor if statement.guarantor_id else statement.patient  # type: ignore[return-value]


def reminder_channel(statement: Statement, *, second: bool = False) -> tuple[str, str]:
    """(channel kind 'sms' or 'email', '') for a reminder of STATEMENT, or ('', why none can go).

    The first reminder goes the way the statement went; SECOND picks another of text and email. Texts need
    billing consent; a statement that went by mail or only to the portal is reminded by email, then text.
    """
    payer = _payer(statement)
    can_text = not patient_text_reason(payer, purpose=Purpose.BILLING)
    can_email = bool(payer.email) and not payer.confidential_communications
    order: list[str]
    if statement.channel == StatementChannel.SMS:
        order = ["email"] if second else ["sms", "email"]
    elif statement.channel == StatementChannel.EMAIL:
        order = ["sms"] if second else ["email", "sms"]
    else:
        order = ["sms", "email"] if second else ["email", "sms"]
    for kind in order:
        if (kind == "sms" and can_text) or (kind == "email" and can_email):
            return kind, ""
    if not can_text and not can_email:
        return "", "No text (with billing consent) or email on file"
    return "", "No second channel on file"


def reminder_text(statement: Statement, *, language: str) -> tuple[str, str]:
    """(subject, body) of a statement reminder in LANGUAGE: the clinic's name and the pay link only."""
    payer = _payer(statement)
    with translation.override(language or "en"):
        clinic = clinic_name_for(statement.patient.primary_location, language)
        subject = gettext("A reminder about your statement")
        body = gettext("%(clinic)s: a reminder that your statement is due. View and pay: %(link)s") % {
            "clinic": clinic,
            "link": pay_link_url(statement),
        }
    del payer
    return subject, body


def _send_reminder(followup: FollowUp, *, second: bool) -> str:
    statement = followup.statement
    kind, why_not = reminder_channel(statement, second=second)
    if not kind:
        return why_not
    channel = channel_default(kind)
    if channel is None:
        return "No channel is configured for " + ("texts" if kind == "sms" else "email")
    payer = _payer(statement)
    subject, body = reminder_text(statement, language=payer.language)
    if kind == "sms":
        from careline.billing.services.replies import plan_word_hint

        body = f"{body} {plan_word_hint(payer.language)}"
    try:
        message = message_send(
            body=body,
            patient=payer,
            channel=channel,
            kind=MessageKind.AUTOMATED,
            purpose=Purpose.BILLING,
            subject=subject if kind == "email" else "",
            idempotency_key=f"billing-followup-{followup.pk}",
            subject_key=subject_key(followup),
        )
    except MessageRefused as refused:
        return str(refused)[:200]
    followup.message_id = message.pk
    if kind == "sms" and message.state != MessageState.SUPPRESSED:
        from careline.billing.services.replies import billing_prompt_record

        billing_prompt_record(message=message, statement=statement)
    if message.state == MessageState.SUPPRESSED:
        return f"Not sent: {message.get_suppression_reason_display() or message.suppression_reason}"[:200]
    return ("Email" if kind == "email" else "Text") + " reminder queued"


def _open_task(followup: FollowUp, kind: str) -> str:
    BillingTask.objects.get_or_create(
        source_key=f"followup:{followup.pk}",
        defaults={
            "patient_id": followup.patient_id,
            "kind": kind,
            "statement_id": followup.statement_id,
            "created_at": timezone.now(),
        },
    )
    return "Call task opened" if kind == TaskKind.CALL else "Flagged for review"


def followup_act(followup_id: int, *, now: datetime | None = None) -> FollowUp | None:
    """Act on one due follow-up, or stop it when it no longer applies. None when it was not planned and due."""
    now = now or timezone.now()
    with transaction.atomic():
        row = FollowUp.objects.filter(pk=followup_id).values("patient_id").first()
        if row is None:
            return None
        _lock_patient(row["patient_id"])
        followup = (
            FollowUp.objects.select_for_update(of=("self",))
            .select_related("statement", "statement__patient", "statement__guarantor")
            .filter(pk=followup_id, state=FollowUpState.PLANNED, due_at__lte=now)
            .first()
        )
        if followup is None:
            return None
        reason = followup_stop_reason(followup.statement)
        if reason:
            followup.state, followup.outcome = FollowUpState.STOPPED, reason
        else:
            if followup.action == FollowUpAction.REMINDER:
                outcome = _send_reminder(followup, second=False)
            elif followup.action == FollowUpAction.SECOND_CHANNEL:
                outcome = _send_reminder(followup, second=True)
            elif followup.action == FollowUpAction.CALL_TASK:
                outcome = _open_task(followup, TaskKind.CALL)
            else:
                outcome = _open_task(followup, TaskKind.REVIEW)
            followup.state, followup.outcome = FollowUpState.DONE, outcome
        followup.finished_at = now
        followup.save(update_fields=["state", "outcome", "finished_at", "message_id"])
        audit_record(
            actor=Actor.system("billing-followups"),
            action=AuditAction.UPDATE,
            obj=followup,
            patient_id=followup.patient_id,
            detail=f"follow-up {followup.action}: {followup.outcome}",
        )
    return followup


def followups_due(now: datetime | None = None, *, limit: int = SWEEP_BATCH) -> list[int]:
    now = now or timezone.now()
    return list(
        FollowUp.objects.filter(state=FollowUpState.PLANNED, due_at__lte=now)
        .order_by("due_at", "id")
        .values_list("pk", flat=True)[:limit]
    )


def followups_sweep(now: datetime | None = None) -> int:
    """Act on every due follow-up (in batches); how many acted or stopped. Safe to run concurrently: each row
    is claimed under the patient's lock and acted on only while still planned."""
    done = 0
    while True:
        ids = followups_due(now)
        if not ids:
            return done
        progressed = 0
        for followup_id in ids:
            try:
                if followup_act(followup_id, now=now) is not None:
                    progressed += 1
            except Exception:  # one account's failure must not stop the others
                logger.exception("billing follow-up %s failed", followup_id)
        done += progressed
        if progressed == 0:
            return done


def dispute_open(
    *, patient: Patient, reason: str, actor: Actor, statement: Statement | None = None
) -> Dispute:
    """Record that PATIENT disputes the bill: the sequence stops and a dispute task opens (audited)."""
    from django.core.exceptions import ValidationError

    from careline.billing.services.checks import text_checked

    reason = text_checked(reason, "reason", 500, "Say what the patient disputes.")
    with transaction.atomic():
        _lock_patient(patient.pk)
        if Dispute.objects.filter(patient=patient, resolved_at__isnull=True).exists():
            raise ValidationError({"reason": "This patient already has an open dispute."})
        now = timezone.now()
        dispute = Dispute.objects.create(
            patient=patient, statement=statement, reason=reason, opened_at=now, opened_by=actor.user
        )
        followups_stop(patient_id=patient.pk, reason=StopReason.DISPUTE)
        BillingTask.objects.create(
            patient=patient,
            kind=TaskKind.DISPUTE,
            statement=statement,
            created_at=now,
            source_key=f"dispute:{dispute.pk}",
        )
        audit_record(
            actor=actor, action=AuditAction.CREATE, obj=dispute, patient_id=patient.pk, detail="dispute"
        )
    return dispute


def dispute_resolve(*, dispute: Dispute, resolution: str, actor: Actor) -> Dispute:
    """Close DISPUTE with RESOLUTION; the sequence of the open statement is planned again from today's steps
    that are not yet past (audited)."""
    from careline.billing.services.checks import text_checked

    resolution = text_checked(resolution, "resolution", 500, "Say how the dispute was resolved.")
    with transaction.atomic():
        _lock_patient(dispute.patient_id)
        now = timezone.now()
        updated = Dispute.objects.filter(pk=dispute.pk, resolved_at__isnull=True).update(
            resolved_at=now, resolved_by=actor.user, resolution=resolution
        )
        dispute.refresh_from_db()
        if updated:
            BillingTask.objects.filter(source_key=f"dispute:{dispute.pk}", state="open").update(
                state="done", closed_at=now, closed_by=actor.user, outcome="Dispute resolved"
            )
            audit_record(
                actor=actor,
                action=AuditAction.UPDATE,
                obj=dispute,
                patient_id=dispute.patient_id,
                detail="dispute resolved",
            )
    return dispute
