"""Payment plans: a statement's balance split into monthly instalments that sum exactly to it.

While a plan is active the collections sequence does not run. Payments fill the instalments in order (the
`PaymentRecorded` listener, inside the payment's transaction). The plan sweep sends a reminder three days
before each due date, one follow-up when an instalment is missed, and flags it to billing staff
(a worklist task) CARELINE_PLAN_MISSED_FLAG_DAYS later.
"""

from __future__ import annotations

import calendar
import logging
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from careline.billing.events import PaymentRecorded
from careline.billing.models import (
    BillingTask,
    InstalmentState,
    PaymentPlan,
    PlanInstalment,
    PlanState,
    Statement,
    StatementState,
    TaskKind,
)
from careline.billing.money import format_money
from careline.billing.paylinks import pay_link_url
from careline.billing.queries import statement_balance, statement_patient_ids
from careline.billing.services.collections import StopReason, _lock_patient, followups_stop, reminder_channel
from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.messaging.models import Message, MessageKind
from careline.messaging.outbound.compose import MessageRefused, message_send, messages_withdraw_for_subject
from careline.messaging.services.channels import channel_default
from careline.messaging.template_values import clinic_name_for
from careline.patients.models import Patient, Purpose

logger = logging.getLogger(__name__)

SUBJECT_PREFIX = "billing-instalment"
REMINDER_DAYS_BEFORE = 3


def instalment_amounts(total_cents: int, count: int) -> list[int]:
    """TOTAL_CENTS split into COUNT whole-cent parts that sum exactly to it, the larger parts first."""
    if count < 1 or total_cents < count:
        raise ValueError("a plan needs at least one cent per instalment")
    base, extra = divmod(total_cents, count)
    return [base + 1 if number < extra else base for number in range(count)]


def add_months(start: date, months: int) -> date:
    """START moved MONTHS calendar months on, on the same day or the month's last day (Jan 31 -> Feb 28)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def plan_limits(total_cents: int) -> tuple[int, int]:
    """(fewest, most) instalments a plan for TOTAL_CENTS may have under the configured minimum instalment."""
    most = min(
        int(settings.CARELINE_PLAN_MAX_INSTALMENTS),
        total_cents // int(settings.CARELINE_PLAN_MIN_INSTALMENT_CENTS),
    )
    return 2, most


def plan_create(*, statement: Statement, instalments: int, first_due: date, actor: Actor) -> PaymentPlan:
    """Split what STATEMENT's patient owes now into INSTALMENTS monthly parts from FIRST_DUE (audited).

    Refused: a statement not open, nothing owed, an active plan already, too many or too few instalments for
    the minimum instalment, a first due date in the past or more than 60 days away."""
    if isinstance(instalments, bool) or not isinstance(instalments, int):
        raise ValidationError({"instalments": "Choose how many monthly payments."})
    today = timezone.localdate()
    if first_due < today:
        raise ValidationError({"first_due": "The first payment cannot be due in the past."})
    if first_due > today + timedelta(days=60):
        raise ValidationError({"first_due": "The first payment must be due within 60 days."})
    with transaction.atomic():
        # A guarantor's combined statement: the plan splits what every account it lists owes, so every one of
        # them is locked (in id order, as the pay page does) against a payment racing the split.
        for patient_id in sorted(statement_patient_ids(statement)):
            _lock_patient(patient_id)
        if statement.state != StatementState.ISSUED:
            raise ValidationError("Only the patient's current statement can be paid by a plan.")
        if PaymentPlan.objects.filter(patient_id=statement.patient_id, state=PlanState.ACTIVE).exists():
            raise ValidationError("This patient already has an active payment plan.")
        balance = statement_balance(statement)
        total = balance.due
        if total <= 0:
            raise ValidationError("Nothing is owed: there is nothing to split.")
        fewest, most = plan_limits(total)
        if most < fewest:
            minimum = format_money(int(settings.CARELINE_PLAN_MIN_INSTALMENT_CENTS), balance.currency)
            raise ValidationError(
                {
                    "instalments": f"The balance is too small for a plan (each payment must be at least {minimum})."
                }
            )
        if not fewest <= instalments <= most:
            raise ValidationError({"instalments": f"Choose between {fewest} and {most} monthly payments."})
        now = timezone.now()
        plan = PaymentPlan.objects.create(
            patient_id=statement.patient_id,
            statement=statement,
            total_cents=total,
            created_at=now,
            created_by=actor.user,
        )
        PlanInstalment.objects.bulk_create(
            [
                PlanInstalment(
                    plan=plan, number=number + 1, due_date=add_months(first_due, number), amount_cents=amount
                )
                for number, amount in enumerate(instalment_amounts(total, instalments))
            ]
        )
        followups_stop(patient_id=statement.patient_id, reason=StopReason.PLAN)
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=plan,
            patient_id=statement.patient_id,
            detail=f"payment plan of {total} cents in {instalments} instalments",
        )
    return plan


def plan_cancel(*, plan: PaymentPlan, reason: str, actor: Actor) -> PaymentPlan:
    """End an active PLAN (the sequence does not restart by itself: issue a new statement) (audited)."""
    from careline.billing.services.checks import text_checked

    reason = text_checked(reason, "reason", 200, "Say why the plan ends.")
    with transaction.atomic():
        _lock_patient(plan.patient_id)
        changed = PaymentPlan.objects.filter(pk=plan.pk, state=PlanState.ACTIVE).update(
            state=PlanState.CANCELLED, finished_at=timezone.now(), cancel_reason=reason
        )
        if not changed:
            raise ValidationError("This plan is not active.")
        for instalment_id in plan.instalments.values_list("pk", flat=True):
            messages_withdraw_for_subject(
                subject_key=f"{SUBJECT_PREFIX}:{instalment_id}", reason="Plan cancelled"
            )
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=plan,
            patient_id=plan.patient_id,
            detail="plan cancelled",
        )
    plan.refresh_from_db()
    return plan


def plans_on_payment(event: PaymentRecorded) -> None:
    """Fill the active plan's instalments, oldest first, with the payment; a plan paid off is completed.

    The plan is the patient's own, or their guarantor's when it splits a combined statement that lists the
    patient's items (a payment on any account the statement lists pays the plan)."""
    plan = PaymentPlan.objects.filter(patient_id=event.patient_id, state=PlanState.ACTIVE).first()
    if plan is None:
        from careline.billing.services.guarantors import guarantor_of

        guarantor = guarantor_of(event.patient_id)
        if guarantor is not None:
            plan = (
                PaymentPlan.objects.filter(patient_id=guarantor.pk, state=PlanState.ACTIVE)
                .select_related("statement")
                .first()
            )
            if plan is not None and event.patient_id not in statement_patient_ids(plan.statement):
                plan = None
    if plan is None:
        return
    remaining = event.amount_cents
    for instalment in (
        plan.instalments.select_for_update().exclude(state=InstalmentState.PAID).order_by("number")
    ):
        if remaining <= 0:
            break
        take = min(remaining, instalment.remaining_cents)
        instalment.paid_cents += take
        remaining -= take
        if instalment.paid_cents == instalment.amount_cents:
            instalment.state = InstalmentState.PAID
            messages_withdraw_for_subject(
                subject_key=f"{SUBJECT_PREFIX}:{instalment.pk}", reason="Instalment paid"
            )
            BillingTask.objects.filter(source_key=f"instalment:{instalment.pk}", state="open").update(
                state="done", closed_at=timezone.now(), outcome="Instalment paid"
            )
        instalment.save(update_fields=["paid_cents", "state"])
    if (
        not plan.instalments.exclude(state=InstalmentState.PAID).exists()
        or statement_balance(plan.statement).due <= 0
    ):
        PaymentPlan.objects.filter(pk=plan.pk).update(state=PlanState.COMPLETED, finished_at=timezone.now())


def instalment_texts_stale(messages: Sequence[Message]) -> dict[int, str]:
    """{message id: reason} for plan texts whose instalment is paid or whose plan ended."""
    ids: dict[int, list[int]] = {}
    for message in messages:
        try:
            ids.setdefault(int(message.subject_key.split(":", 1)[1]), []).append(message.pk)
        except (IndexError, ValueError):
            continue
    stale: dict[int, str] = {}
    for instalment in PlanInstalment.objects.filter(pk__in=ids).select_related("plan"):
        reason = ""
        if instalment.state == InstalmentState.PAID:
            reason = "Instalment paid"
        elif instalment.plan.state != PlanState.ACTIVE:
            reason = "Plan no longer active"
        if reason:
            for message_id in ids[instalment.pk]:
                stale[message_id] = reason
    return stale


def _instalment_text(instalment: PlanInstalment, *, missed: bool, language: str) -> tuple[str, str]:
    statement = instalment.plan.statement
    with translation.override(language or "en"):
        clinic = clinic_name_for(statement.patient.primary_location, language)
        values = {"clinic": clinic, "link": pay_link_url(statement)}
        if missed:
            subject = gettext("Your payment plan: a payment was missed")
            body = gettext(
                "%(clinic)s: a payment on your plan is past due. Pay here or reply to talk to us: %(link)s"
            )
        else:
            subject = gettext("Your payment plan: a payment is due soon")
            body = gettext("%(clinic)s: a payment on your plan is due in 3 days. Pay here: %(link)s")
    return subject, body % values


def _instalment_send(instalment: PlanInstalment, *, missed: bool) -> bool:
    statement = instalment.plan.statement
    kind, _why = reminder_channel(statement)
    channel = channel_default(kind) if kind else None
    if channel is None:
        return False
    payer: Patient = statement.guarantor if statement.guarantor_id else statement.patient  # type: ignore[assignment]
    subject, body = _instalment_text(instalment, missed=missed, language=payer.language)
    try:
        message_send(
            body=body,
            patient=payer,
            channel=channel,
            kind=MessageKind.AUTOMATED,
            purpose=Purpose.BILLING,
            subject=subject if kind == "email" else "",
            idempotency_key=f"billing-instalment-{instalment.pk}-{'missed' if missed else 'due'}",
            subject_key=f"{SUBJECT_PREFIX}:{instalment.pk}",
        )
    except MessageRefused:
        return False
    return True


def plans_sweep(now: datetime | None = None) -> int:
    """Reminders three days ahead, one follow-up for a missed instalment, then a flag for billing staff."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    acted = 0
    active = PlanInstalment.objects.filter(plan__state=PlanState.ACTIVE)
    # 1. Reminders before the due date.
    for pk in active.filter(
        state=InstalmentState.DUE,
        reminder_sent_at__isnull=True,
        due_date__lte=today + timedelta(days=REMINDER_DAYS_BEFORE),
        due_date__gte=today,
    ).values_list("pk", flat=True):
        acted += _instalment_step(pk, now, "reminder")
    # 2. Missed: past due and not paid in full.
    for pk in active.filter(state=InstalmentState.DUE, due_date__lt=today).values_list("pk", flat=True):
        acted += _instalment_step(pk, now, "missed")
    # 3. Flag: missed, followed up, still unpaid after the grace days.
    flag_before = now - timedelta(days=int(settings.CARELINE_PLAN_MISSED_FLAG_DAYS))
    for pk in active.filter(
        state=InstalmentState.MISSED, flagged_at__isnull=True, missed_notice_sent_at__lte=flag_before
    ).values_list("pk", flat=True):
        acted += _instalment_step(pk, now, "flag")
    return acted


def _instalment_step(pk: int, now: datetime, step: str) -> int:
    try:
        with transaction.atomic():
            plan_patient = (
                PlanInstalment.objects.filter(pk=pk).values_list("plan__patient_id", flat=True).first()
            )
            if plan_patient is None:
                return 0
            _lock_patient(plan_patient)
            instalment = (
                PlanInstalment.objects.select_for_update(of=("self",))
                .select_related(
                    "plan", "plan__statement", "plan__statement__patient", "plan__statement__guarantor"
                )
                .get(pk=pk)
            )
            if instalment.plan.state != PlanState.ACTIVE or instalment.state == InstalmentState.PAID:
                return 0
            if step == "reminder" and instalment.reminder_sent_at is None:
                _instalment_send(instalment, missed=False)
                instalment.reminder_sent_at = now
            elif step == "missed" and instalment.state == InstalmentState.DUE:
                instalment.state = InstalmentState.MISSED
                _instalment_send(instalment, missed=True)
                instalment.missed_notice_sent_at = now
            elif step == "flag" and instalment.flagged_at is None:
                BillingTask.objects.get_or_create(
                    source_key=f"instalment:{instalment.pk}",
                    defaults={
                        "patient_id": instalment.plan.patient_id,
                        "kind": TaskKind.MISSED_INSTALMENT,
                        "plan": instalment.plan,
                        "statement_id": instalment.plan.statement_id,
                        "created_at": now,
                    },
                )
                instalment.flagged_at = now
            else:
                return 0
            instalment.save(
                update_fields=["reminder_sent_at", "state", "missed_notice_sent_at", "flagged_at"]
            )
            audit_record(
                actor=Actor.system("billing-plans"),
                action=AuditAction.UPDATE,
                obj=instalment,
                patient_id=instalment.plan.patient_id,
                detail=f"instalment {step}",
            )
        return 1
    except Exception:
        logger.exception("payment plan instalment %s: %s failed", pk, step)
        return 0
