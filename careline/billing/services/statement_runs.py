"""The bulk run: statements for every patient with a balance due and a visit ready, as a Celery job in chunks.

A `StatementRun` row holds the day and a cursor (the last patient id done). Each chunk locks the run's row,
takes the next CHUNK patients by id, issues a statement to each who owes money on a ready visit and has none
of that day yet, moves the cursor and, after commit, queues the next chunk. A task delivered twice, or a
worker that died mid-chunk (its transaction rolled back), leaves the run where its last commit put it: the
next chunk goes on from there, and nobody gets two statements of one day.

A chunk does what `statement_issue` does for each patient, set-wise: the lines of all its patients in seven
queries, their billing preferences and text consent together, one insert each for statements, lines, history
and audit entries, and `messages_send_bulk` per channel (the same rules as `message_send`). PDFs are drawn
later, by the worker that sends each email or when the mail batch is downloaded.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from careline.billing.events import StatementIssued
from careline.billing.models import (
    Statement,
    StatementChannel,
    StatementEvent,
    StatementEventKind,
    StatementLine,
    StatementRun,
    StatementRunState,
    StatementState,
)
from careline.billing.queries import (
    LineDraft,
    balance_from,
    balances_of,
    statement_line_drafts_of,
    statement_totals,
)
from careline.billing.services.statements import (
    DeliveryPlan,
    statement_delivery_plan,
    statement_event,
    statement_first_text,
    statement_message_text,
    statement_subject_key,
)
from careline.billing.statement_texts import STATEMENT_EMAIL_BODY, STATEMENT_EMAIL_SUBJECT
from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_patients_record, audit_record
from careline.core.events import publish
from careline.core.queue import task_enqueue
from careline.messaging.models import MessageKind
from careline.messaging.outbound.bulk import OutboundItem, messages_send_bulk
from careline.messaging.outbound.compose import MessageRefused, messages_withdraw_for_subject
from careline.messaging.outbound.policy import SuppressionFacts, patient_sms_number, suppression_reason_for
from careline.messaging.services.channels import channel_default
from careline.patients.models import ContactPreference, Patient, Purpose

logger = logging.getLogger(__name__)

CHUNK = 500
RUN_JOB = "statement-run"
TASK = "billing.statement_run_chunk"


def statement_run_start(*, actor: Actor, statement_date: date | None = None) -> StatementRun:
    """Start a run for STATEMENT_DATE (today); its first chunk is queued after commit (audited)."""
    now = timezone.now()
    with transaction.atomic():
        run = StatementRun.objects.create(
            statement_date=statement_date or timezone.localdate(), created_at=now, updated_at=now,
            created_by=actor.user,
        )  # fmt: skip
        audit_record(
            actor=actor, action=AuditAction.CREATE, obj=run, detail=f"statement run for {run.statement_date}"
        )
        run_id = run.pk
        transaction.on_commit(lambda: task_enqueue(TASK, run_id))
    return run


def _candidates(run: StatementRun, size: int) -> tuple[list[Patient], int | None]:
    """The next SIZE patients after the cursor who owe money, and the last id looked at (None: the end)."""
    ids = list(Patient.objects.filter(pk__gt=run.cursor).order_by("pk").values_list("pk", flat=True)[:size])
    if not ids:
        return [], None
    rows = balances_of(Patient.objects.filter(pk__in=ids).select_related("primary_location").order_by("pk"))
    owing = [row for row in rows if balance_from(row).due > 0]
    done_today = set(
        Statement.objects.filter(
            patient_id__in=[p.pk for p in owing], statement_date=run.statement_date
        ).values_list("patient_id", flat=True)
    )
    return [p for p in owing if p.pk not in done_today], ids[-1]


def statement_run_chunk(*, run_id: int, size: int = CHUNK) -> int:
    """Work the next chunk of run RUN_ID; the statements issued. Queues the next chunk while any remain."""
    actor = Actor.system(RUN_JOB)
    issued = skipped = 0
    with transaction.atomic():
        run = StatementRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.state == StatementRunState.DONE:
            return 0
        patients, last = _candidates(run, size)
        if patients:
            issued, skipped = statements_issue_many(
                patients=patients, actor=actor, statement_date=run.statement_date
            )
        now = timezone.now()
        if last is None:
            run.state, run.finished_at = StatementRunState.DONE, now
        else:
            run.state, run.cursor = StatementRunState.RUNNING, last
        run.issued += issued
        run.skipped += skipped
        run.updated_at = now
        run.save(update_fields=["state", "cursor", "issued", "skipped", "updated_at", "finished_at"])
        if last is not None:
            transaction.on_commit(lambda: task_enqueue(TASK, run_id))
    return issued


def _plans(patients: list[Patient]) -> dict[int, DeliveryPlan]:
    """Each patient's delivery plan, with preferences and text consent looked up for all of them together."""
    ids = [p.pk for p in patients]
    preferences = dict(
        ContactPreference.objects.filter(patient_id__in=ids, purpose=Purpose.BILLING).values_list(
            "patient_id", "channel"
        )
    )
    sms = channel_default("sms")
    numbers = {p.pk: patient_sms_number(p) or "" for p in patients}
    facts = SuppressionFacts.load(list(numbers.values()), purposes=[Purpose.BILLING])
    plans = {}
    for patient in patients:
        reason = (
            suppression_reason_for(
                channel=sms,
                address=numbers[patient.pk],
                patient=patient,
                kind=MessageKind.AUTOMATED,
                purpose=Purpose.BILLING,
                facts=facts,
            )
            if sms is not None
            else "channel_disabled"
        )
        plans[patient.pk] = statement_delivery_plan(
            patient, preference=preferences.get(patient.pk), known=True, text_reason=reason
        )
    return plans


def statements_issue_many(*, patients: list[Patient], actor: Actor, statement_date: date) -> tuple[int, int]:
    """`statement_issue` for each of PATIENTS (to themselves, due in the default days), set-wise; (issued,
    skipped: no visit ready). Call inside a transaction."""
    drafts = statement_line_drafts_of([p.pk for p in patients])
    ready = [p for p in patients if any(d.kind == "charge" for d in drafts[p.pk])]
    skipped = len(patients) - len(ready)
    if not ready:
        return 0, skipped
    Patient.objects.select_for_update().filter(pk__in=[p.pk for p in ready]).values_list(
        "pk", flat=True
    ).count()
    from django.db.models import prefetch_related_objects

    prefetch_related_objects(ready, "phones")
    # One instance per location, its messaging policy loaded once: quiet hours read it for every message.
    locations = {p.primary_location_id: p.primary_location for p in ready if p.primary_location_id}
    prefetch_related_objects([loc for loc in locations.values() if loc is not None], "messaging_policy")
    for p in ready:
        if p.primary_location_id:
            p.primary_location = locations[p.primary_location_id]
    plans = _plans(ready)
    now = timezone.now()
    due = statement_date + timedelta(days=settings.CARELINE_STATEMENT_DUE_DAYS)
    previous = list(
        Statement.objects.filter(
            patient_id__in=[p.pk for p in ready], state=StatementState.ISSUED
        ).values_list("pk", flat=True)
    )
    statements = Statement.objects.bulk_create(
        [
            Statement(
                patient=p,
                statement_date=statement_date,
                due_date=due,
                amount_due_cents=statement_totals(drafts[p.pk]).amount_due,
                channel=plans[p.pk].channel,
                channel_reason=plans[p.pk].reason[:200],
                issued_at=now,
            )
            for p in ready
        ]
    )
    events: list[StatementEvent] = []
    if previous:
        Statement.objects.filter(pk__in=previous).update(state=StatementState.SUPERSEDED)
        for pk in previous:
            messages_withdraw_for_subject(subject_key=statement_subject_key(pk), reason="superseded")
            events.append(
                StatementEvent(
                    statement_id=pk, kind=StatementEventKind.SUPERSEDED, at=now, actor=actor.label[:60]
                )
            )
    StatementLine.objects.bulk_create(
        [
            _line(statement, index, draft)
            for statement in statements
            for index, draft in enumerate(drafts[statement.patient_id], start=1)
        ],
        batch_size=2_000,
    )
    for statement in statements:
        amount = f"{statement.amount_due_cents} cents"
        events.append(statement_event(statement, StatementEventKind.ISSUED, actor, detail=amount))
    audit_patients_record(
        actor=actor, action=AuditAction.CREATE, patient_ids=[s.patient_id for s in statements],
        detail="statement issued (statement run)",
    )  # fmt: skip
    events += _deliver_many(statements, actor)
    StatementEvent.objects.bulk_create(events, batch_size=2_000)
    for statement in statements:
        publish(
            StatementIssued(
                statement_id=statement.pk,
                patient_id=statement.patient_id,
                payer_id=statement.payer_id,
                amount_due_cents=statement.amount_due_cents,
                currency=statement.currency,
                due_date=statement.due_date.isoformat(),
                channel=statement.channel,
            )
        )
    return len(statements), skipped


def _line(statement: Statement, index: int, d: LineDraft) -> StatementLine:
    return StatementLine(
        statement=statement, position=index, kind=d.kind, visit_id=d.visit_id, charge_id=d.charge_id,
        line_date=d.line_date, service_code=d.service_code, description=d.description[:200],
        charged_cents=d.charged_cents, insurance_paid_cents=d.insurance_paid_cents,
        insurance_adjusted_cents=d.insurance_adjusted_cents, amount_cents=d.amount_cents,
    )  # fmt: skip


def _deliver_many(statements: list[Statement], actor: Actor) -> list[StatementEvent]:
    """Texts and emails for STATEMENTS (one bulk send per channel), and the history entries of all of them."""
    events: list[StatementEvent] = []
    by_channel: dict[str, list[tuple[Statement, OutboundItem]]] = {
        StatementChannel.SMS: [],
        StatementChannel.EMAIL: [],
    }
    for statement in statements:
        if statement.channel == StatementChannel.MAIL:
            detail = f"mail batch of {statement.statement_date}"
            events.append(statement_event(statement, StatementEventKind.MAILED, actor, detail=detail))
            continue
        if statement.channel == StatementChannel.PORTAL:
            detail = statement.channel_reason
            events.append(statement_event(statement, StatementEventKind.PORTAL, actor, detail=detail))
            continue
        payer = statement.patient
        body, subject = statement_message_text(
            statement, payer, text=statement_first_text(), subject=STATEMENT_EMAIL_SUBJECT,
            email_body=STATEMENT_EMAIL_BODY,
        )  # fmt: skip
        key = f"{statement_subject_key(statement.pk)}:issued"
        item = OutboundItem(
            body=body, idempotency_key=key, patient=payer, subject=subject,
            subject_key=statement_subject_key(statement.pk), sensitive=True,
        )  # fmt: skip
        by_channel[statement.channel].append((statement, item))
    for kind, pairs in by_channel.items():
        if not pairs:
            continue
        channel = channel_default("sms" if kind == StatementChannel.SMS else "email")
        if channel is None:
            for statement, _ in pairs:
                events.append(
                    statement_event(statement, StatementEventKind.SENT, actor, detail="not sent: no channel")
                )
            continue
        results = messages_send_bulk(
            items=[item for _, item in pairs],
            channel=channel,
            kind=MessageKind.AUTOMATED,
            purpose=Purpose.BILLING,
        )
        for statement, item in pairs:
            result = results.get(item.idempotency_key)
            if isinstance(result, MessageRefused) or result is None:
                detail = f"not sent: {result}"
                events.append(statement_event(statement, StatementEventKind.SENT, actor, detail=detail))
            else:
                detail = statement.get_channel_display()
                events.append(
                    statement_event(statement, StatementEventKind.SENT, actor, detail=detail, message=result)
                )
    return events
