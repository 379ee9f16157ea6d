"""Statements: issued from the ledger's ready visits, delivered by the payer's billing preference, voided,
their pay link sent again, and their history (audited).

A statement is issued only for visits whose claims are all final (or that are self-pay); its lines are a
snapshot of the ledger then (StatementLine), its amount due their sum (never below zero). Issuing supersedes
the patient's open statement and withdraws that one's texts and emails not yet gone. Delivery follows the
payer's billing ContactPreference; a text needs the consent recorded for billing texts, and without it the
statement goes by email, else mail, with the reason kept in `channel_reason` (shown on the staff pages).
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from careline.billing.events import StatementIssued
from careline.billing.models import (
    Statement,
    StatementChannel,
    StatementEvent,
    StatementEventKind,
    StatementLine,
    StatementState,
)
from careline.billing.money import format_money
from careline.billing.paylinks import pay_link_url
from careline.billing.queries import LineDraft, statement_line_drafts_of, statement_totals
from careline.billing.statement_texts import (
    PAY_LINK_EMAIL_BODY,
    PAY_LINK_EMAIL_SUBJECT,
    PAY_LINK_TEXT,
    STATEMENT_EMAIL_BODY,
    STATEMENT_EMAIL_SUBJECT,
    STATEMENT_TEXT,
    STATEMENT_TEXT_WITH_AMOUNT,
)
from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.core.events import publish
from careline.core.languages import say
from careline.messaging.models import Message, MessageKind, SuppressionReason
from careline.messaging.outbound.compose import MessageRefused, message_send, messages_withdraw_for_subject
from careline.messaging.outbound.policy import patient_text_reason
from careline.messaging.services.channels import channel_default
from careline.messaging.template_values import patient_values
from careline.messaging.templating import TemplateKind, template_render
from careline.patients.models import ContactPreference, Patient, Purpose

logger = logging.getLogger(__name__)

SUBJECT_PREFIX = "statement"


def statement_subject_key(statement_id: int) -> str:
    """The subject_key of a statement's texts and emails (withdrawn when it is voided or superseded)."""
    return f"{SUBJECT_PREFIX}:{statement_id}"


# --- where a statement goes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryPlan:
    """The channel a statement goes by, and why it is not the payer's preference ('' when it is)."""

    channel: str
    reason: str = ""

    @property
    def label(self) -> str:
        return str(StatementChannel(self.channel).label)


def has_mailing_address(patient: Patient) -> bool:
    return bool(patient.address_line1.strip() and patient.city.strip())


def _fallback_from_text(payer: Patient, why: str) -> DeliveryPlan:
    label = SuppressionReason(why).label if why in SuppressionReason.values else why
    if payer.email:
        return DeliveryPlan(StatementChannel.EMAIL, f"Not by text ({label}): sent by email instead.")
    if has_mailing_address(payer):
        return DeliveryPlan(
            StatementChannel.MAIL, f"Not by text ({label}) and no email address: sent by mail."
        )
    return DeliveryPlan(
        StatementChannel.PORTAL,
        f"Not by text ({label}), no email or mailing address: in the patient portal only.",
    )


def statement_delivery_plan(
    payer: Patient, *, preference: str | None = None, known: bool = False, text_reason: str | None = None
) -> DeliveryPlan:
    """How a statement reaches PAYER: their billing preference (text when none is recorded), else email, mail
    or the portal, with the reason. A batch passes PREFERENCE (KNOWN) and TEXT_REASON looked up together."""
    if payer.is_deceased:
        return DeliveryPlan(StatementChannel.PORTAL, "The patient is deceased: nothing is sent.")
    if payer.confidential_communications:
        return DeliveryPlan(
            StatementChannel.PORTAL, "Confidential communications: in the patient portal only, nothing sent."
        )
    if not known:
        preference = (
            ContactPreference.objects.filter(patient=payer, purpose=Purpose.BILLING)
            .values_list("channel", flat=True)
            .first()
        )
    wanted = preference or StatementChannel.SMS
    if wanted == StatementChannel.SMS:
        why = patient_text_reason(payer, purpose=Purpose.BILLING) if text_reason is None else text_reason
        return _fallback_from_text(payer, why) if why else DeliveryPlan(StatementChannel.SMS)
    if wanted == StatementChannel.EMAIL:
        if payer.email:
            return DeliveryPlan(StatementChannel.EMAIL)
        if has_mailing_address(payer):
            return DeliveryPlan(StatementChannel.MAIL, "No email address on file: sent by mail instead.")
        return DeliveryPlan(
            StatementChannel.PORTAL, "No email or mailing address on file: in the portal only."
        )
    if wanted == StatementChannel.PORTAL:
        return DeliveryPlan(StatementChannel.PORTAL)
    reason = "" if wanted == StatementChannel.MAIL else "Phone calls do not carry statements: sent by mail."
    if has_mailing_address(payer):
        return DeliveryPlan(StatementChannel.MAIL, reason)
    if payer.email:
        return DeliveryPlan(StatementChannel.EMAIL, "No mailing address on file: sent by email instead.")
    return DeliveryPlan(StatementChannel.PORTAL, "No mailing address on file: in the patient portal only.")


# --- issuing ---------------------------------------------------------------------------------------------


def _lock_patient(patient: Patient) -> None:
    Patient.objects.select_for_update().filter(pk=patient.pk).values_list("pk", flat=True).first()


def statement_event(
    statement: Statement, kind: str, actor: Actor, *, detail: str = "", message: Any = None
) -> StatementEvent:
    """An entry of STATEMENT's history (unsaved)."""
    return StatementEvent(
        statement=statement, kind=kind, at=timezone.now(), actor=actor.label[:60], detail=detail[:200],
        message=message,
    )  # fmt: skip


def _event(statement: Statement, kind: str, actor: Actor, *, detail: str = "", message: Any = None) -> None:
    statement_event(statement, kind, actor, detail=detail, message=message).save()


def statement_lines_store(statement: Statement, drafts: list[LineDraft]) -> None:
    """Store DRAFTS as STATEMENT's lines, in order."""
    StatementLine.objects.bulk_create(
        [
            StatementLine(
                statement=statement,
                position=index,
                patient_id=d.patient_id,
                kind=d.kind,
                visit_id=d.visit_id,
                charge_id=d.charge_id,
                line_date=d.line_date,
                service_code=d.service_code,
                description=d.description[:200],
                charged_cents=d.charged_cents,
                insurance_paid_cents=d.insurance_paid_cents,
                insurance_adjusted_cents=d.insurance_adjusted_cents,
                amount_cents=d.amount_cents,
            )
            for index, d in enumerate(drafts, start=1)
        ]
    )


def statement_issue(
    *,
    patient: Patient,
    actor: Actor,
    guarantor: Patient | None = None,
    due_in_days: int | None = None,
    statement_date: date | None = None,
    drafts: list[LineDraft] | None = None,
) -> Statement:
    """Issue a statement of PATIENT's ready visits to the patient (or GUARANTOR), deliver it and publish
    StatementIssued (audited). ValidationError when no visit is ready or the guarantor is the patient.

    A patient with a standing guarantor (`services.guarantors`) gets the guarantor's statement instead: one
    statement of the guarantor's own items and every dependant's, each line naming its patient."""
    group = [patient.pk]
    if guarantor is None and drafts is None:
        from careline.billing.services.guarantors import statement_holder

        patient, group = statement_holder(patient)
    if guarantor is not None and guarantor.pk == patient.pk:
        raise ValidationError({"guarantor": "The guarantor is someone other than the patient."})
    days = settings.CARELINE_STATEMENT_DUE_DAYS if due_in_days is None else due_in_days
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 365:
        raise ValidationError({"due_in_days": "Give between 1 and 365 days to pay."})
    if drafts is None:
        by_patient = statement_line_drafts_of(group)
        drafts = [draft for pk in group for draft in by_patient[pk]]
    if not any(d.kind == "charge" for d in drafts):
        raise ValidationError(
            "Nothing is ready for a statement: no visit has all its claims final or is marked self-pay."
        )
    payer = guarantor or patient
    today = statement_date or timezone.localdate(timezone=patient.zone)
    totals = statement_totals(drafts)
    plan = statement_delivery_plan(payer)
    with transaction.atomic():
        for pk in sorted(group):
            Patient.objects.select_for_update().filter(pk=pk).values_list("pk", flat=True).first()
        previous = list(Statement.objects.filter(patient_id__in=group, state=StatementState.ISSUED))
        statement = Statement.objects.create(
            patient=patient, guarantor=guarantor, statement_date=today, due_date=today + timedelta(days=days),
            amount_due_cents=totals.amount_due, channel=plan.channel, channel_reason=plan.reason[:200],
            issued_at=timezone.now(), issued_by=actor.user,
        )  # fmt: skip
        statement_lines_store(statement, drafts)
        for old in previous:
            Statement.objects.filter(pk=old.pk).update(state=StatementState.SUPERSEDED)
            messages_withdraw_for_subject(
                subject_key=statement_subject_key(old.pk), reason=f"superseded by {statement.number}"
            )
            _event(old, StatementEventKind.SUPERSEDED, actor, detail=f"by {statement.number}")
        _event(
            statement,
            StatementEventKind.ISSUED,
            actor,
            detail=format_money(totals.amount_due, statement.currency),
        )
        audit_record(
            actor=actor, action=AuditAction.CREATE, obj=statement, patient_id=patient.pk,
            detail=f"statement {statement.number}: {totals.amount_due} cents due, by {plan.channel}",
        )  # fmt: skip
        for dependant_id in group[1:]:
            audit_record(
                actor=actor, action=AuditAction.CREATE, obj=statement, patient_id=dependant_id,
                detail=f"statement {statement.number} of the guarantor lists this patient's items",
            )  # fmt: skip
        statement_deliver(statement=statement, payer=payer, actor=actor)
        publish(
            StatementIssued(
                statement_id=statement.pk,
                patient_id=patient.pk,
                payer_id=payer.pk,
                amount_due_cents=statement.amount_due_cents,
                currency=statement.currency,
                due_date=statement.due_date.isoformat(),
                channel=statement.channel,
            )
        )
    return statement


def _values(statement: Statement, payer: Patient) -> dict[str, str]:
    values = patient_values(patient=payer, location=statement.patient.primary_location)
    values["link"] = pay_link_url(statement)
    values["amount"] = format_money(statement.amount_due_cents, statement.currency)
    return values


def statement_message_text(
    statement: Statement, payer: Patient, *, text: Any, subject: Any, email_body: Any
) -> tuple[str, str]:
    """(body, subject) of the statement's text or email to PAYER in their language, by the safe renderer."""
    values = _values(statement, payer)
    language = payer.language
    if statement.channel == StatementChannel.SMS:
        return template_render(say(text, language), values, kind=TemplateKind.STATEMENT), ""
    body = template_render(say(email_body, language), values, kind=TemplateKind.STATEMENT)
    return body, template_render(say(subject, language), values, kind=TemplateKind.STATEMENT)


def statement_first_text() -> Any:
    """The text that announces a statement: with its amount only when an administrator allows it."""
    return STATEMENT_TEXT_WITH_AMOUNT if settings.CARELINE_STATEMENT_TEXT_AMOUNT else STATEMENT_TEXT


def _send(
    statement: Statement, payer: Patient, *, text: Any, subject: Any, email_body: Any, key: str
) -> Message | None:
    """The statement's text or email to PAYER by its channel (None for mail and the portal)."""
    if statement.channel not in (StatementChannel.SMS, StatementChannel.EMAIL):
        return None
    channel = channel_default("sms" if statement.channel == StatementChannel.SMS else "email")
    body, title = statement_message_text(statement, payer, text=text, subject=subject, email_body=email_body)
    extra: dict[str, Any] = {"subject": title} if title else {}
    if channel is None:
        raise MessageRefused("No channel is configured for this kind of message.")
    return message_send(
        body=body, patient=payer, channel=channel, kind=MessageKind.AUTOMATED, purpose=Purpose.BILLING,
        idempotency_key=key, subject_key=statement_subject_key(statement.pk), sensitive=True, **extra,
    )  # fmt: skip


def statement_deliver(*, statement: Statement, payer: Patient, actor: Actor) -> Message | None:
    """Hand a new STATEMENT to its channel: a text or an email (through message_send, purpose billing), the
    day's mail batch, or the portal; recorded in its history."""
    if statement.channel == StatementChannel.MAIL:
        _event(
            statement, StatementEventKind.MAILED, actor, detail=f"mail batch of {statement.statement_date}"
        )
        return None
    if statement.channel == StatementChannel.PORTAL:
        _event(statement, StatementEventKind.PORTAL, actor, detail=statement.channel_reason)
        return None
    try:
        message = _send(
            statement, payer, text=statement_first_text(),
            subject=STATEMENT_EMAIL_SUBJECT, email_body=STATEMENT_EMAIL_BODY,
            key=f"{statement_subject_key(statement.pk)}:issued",
        )  # fmt: skip
    except MessageRefused as refused:
        _event(statement, StatementEventKind.SENT, actor, detail=f"not sent: {refused}")
        return None
    _event(statement, StatementEventKind.SENT, actor, detail=statement.get_channel_display(), message=message)
    if message is not None and statement.channel == StatementChannel.SMS:
        from careline.billing.services.replies import billing_prompt_record

        # A reply to the statement's own text reaches billing (PLAN, or a question tagged for staff).
        billing_prompt_record(message=message, statement=statement)
    return message


# --- after issuing ---------------------------------------------------------------------------------------


def statement_current(statement: Statement) -> Statement | None:
    """STATEMENT if it is open, else the patient's open statement that superseded it (None after a void)."""
    if statement.state == StatementState.ISSUED:
        return statement
    if statement.state == StatementState.VOIDED:
        return None
    from django.db.models import Q

    # A dependant's statement is superseded by their guarantor's, which lists the dependant's items.
    listed = StatementLine.objects.filter(patient_id=statement.patient_id).values("statement_id")
    return (
        Statement.objects.filter(
            Q(patient_id=statement.patient_id) | Q(pk__in=listed), state=StatementState.ISSUED
        )
        .order_by("-issued_at", "-id")
        .first()
    )


def statement_void(*, statement: Statement, reason: str, actor: Actor) -> Statement:
    """Void STATEMENT issued in error (audited): its pay link stops working, its unsent texts are withdrawn."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the statement is voided."})
    if len(reason) > 200:
        raise ValidationError({"reason": "Keep the reason under 200 characters."})
    with transaction.atomic():
        changed = (
            Statement.objects.filter(pk=statement.pk)
            .exclude(state=StatementState.VOIDED)
            .update(state=StatementState.VOIDED)
        )
        if not changed:
            raise ValidationError("This statement is already voided.")
        messages_withdraw_for_subject(
            subject_key=statement_subject_key(statement.pk), reason="statement voided"
        )
        _event(statement, StatementEventKind.VOIDED, actor, detail=reason)
        audit_record(
            actor=actor, action=AuditAction.UPDATE, obj=statement, patient_id=statement.patient_id,
            detail=f"statement {statement.number} voided: {reason}",
        )  # fmt: skip
    statement.refresh_from_db()
    return statement


def statement_link_resend(*, statement: Statement, actor: Actor) -> Message | None:
    """Send a fresh pay link for STATEMENT (or the open statement that superseded it) to the payer's channel
    on file, never to an address someone typed; ValidationError when there is no open statement or the
    statement goes by mail or the portal only."""
    current = statement_current(statement)
    if current is None:
        raise ValidationError("This statement was voided: there is no link to send.")
    payer = current.guarantor or current.patient
    plan = statement_delivery_plan(payer)
    if plan.channel not in (StatementChannel.SMS, StatementChannel.EMAIL):
        raise ValidationError(
            f"No text or email can carry the link: {plan.reason or 'the payer chose mail.'}"
        )
    sending = copy.copy(current)
    sending.channel = plan.channel
    with transaction.atomic():
        count = StatementEvent.objects.filter(statement=current, kind=StatementEventKind.LINK_RESENT).count()
        message = _send(
            sending, payer, text=PAY_LINK_TEXT, subject=PAY_LINK_EMAIL_SUBJECT, email_body=PAY_LINK_EMAIL_BODY,
            key=f"{statement_subject_key(current.pk)}:link:{count + 1}",
        )  # fmt: skip
        _event(current, StatementEventKind.LINK_RESENT, actor, detail=plan.channel, message=message)
        audit_record(
            actor=actor, action=AuditAction.CREATE, obj=current, patient_id=current.patient_id,
            detail=f"statement {current.number}: pay link sent again by {plan.channel}",
        )  # fmt: skip
    return message


def statement_viewed(*, statement: Statement, actor: Actor, where: str) -> None:
    """Record that the payer opened STATEMENT (the pay page after the date of birth, or the portal)."""
    _event(statement, StatementEventKind.VIEWED, actor, detail=where)
