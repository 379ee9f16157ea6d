"""Statements for many patients at once (a statement run's chunk): the rows `statement_issue` makes, set-wise.

The lines of all the chunk's patients in seven queries, their billing preferences and text consent together,
the statements, lines, history and follow-ups written with `rows_copy` (COPY on PostgreSQL: no model
instance and no insert compilation per row), one audit insert, `messages_send_bulk` per channel (the same
rules as `message_send`) and `StatementIssued` published set-wise (`publish_many`). Texts are rendered from
each language's template parsed once per chunk. PDFs are drawn later, by the worker that sends each email or
when the mail batch is downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, prefetch_related_objects
from django.utils import timezone

from careline.billing.events import StatementIssued
from careline.billing.models import (
    GuarantorLink,
    Statement,
    StatementChannel,
    StatementEvent,
    StatementEventKind,
    StatementLine,
    StatementState,
)
from careline.billing.queries import LineDraft, statement_line_drafts_of, statement_totals
from careline.billing.services.guarantors import statement_holder
from careline.billing.services.statements import (
    DeliveryPlan,
    statement_delivery_plan,
    statement_first_text,
    statement_issue,
    statement_message_text,
    statement_subject_key,
)
from careline.billing.statement_texts import STATEMENT_EMAIL_BODY, STATEMENT_EMAIL_SUBJECT
from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_patients_record
from careline.core.events import publish_many
from careline.core.rowcopy import rows_copy
from careline.messaging.models import MessageKind
from careline.messaging.outbound.bulk import OutboundItem, messages_send_bulk
from careline.messaging.outbound.compose import MessageRefused, messages_withdraw_for_subject
from careline.messaging.outbound.policy import SuppressionFacts, patients_sms_numbers, suppression_reason_for
from careline.messaging.services.channels import channel_default
from careline.patients.models import ContactPreference, Patient, Purpose

EVENT_FIELDS = ("statement_id", "kind", "at", "actor", "detail", "message_id")
LINE_FIELDS = (
    "statement_id", "position", "kind", "visit_id", "charge_id", "line_date", "service_code", "description",
    "charged_cents", "insurance_paid_cents", "insurance_adjusted_cents", "amount_cents",
)  # fmt: skip
Event = tuple[int, str, object, str, str, int | None]


@dataclass(frozen=True)
class Plans:
    """The chunk's delivery plans by patient id, with the texting numbers and suppression facts behind them."""

    by_patient: dict[int, DeliveryPlan]
    numbers: dict[int, str]  # patient_sms_number of each patient ('' when none)
    facts: SuppressionFacts


def _plans(patients: list[Patient]) -> Plans:
    """Each patient's delivery plan, with preferences and text consent looked up for all of them together."""
    ids = [p.pk for p in patients]
    preferences = dict(
        ContactPreference.objects.filter(patient_id__any_of=ids, purpose=Purpose.BILLING).values_list(
            "patient_id", "channel"
        )
    )
    sms = channel_default("sms")
    found = patients_sms_numbers(ids)
    numbers = {p.pk: found.get(p.pk, "") for p in patients}
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
    return Plans(plans, numbers, facts)


def statements_issue_many(
    *, patients: list[Patient], actor: Actor, statement_date: date, due_date: date
) -> tuple[int, int]:
    """`statement_issue` for each of PATIENTS (to themselves, due on DUE_DATE), set-wise; (issued, skipped: no
    visit ready). Call inside a transaction.

    Patients with a standing guarantor, and guarantors, go through `statement_issue` one by one: their
    statement is the guarantor's, combining each dependant's items (few patients: children, mostly)."""
    grouped = _grouped_ids([p.pk for p in patients], statement_date)
    combined_issued, combined_skipped = _issue_combined(
        [p for p in patients if p.pk in grouped],
        actor=actor,
        statement_date=statement_date,
        due_date=due_date,
    )
    patients = [p for p in patients if p.pk not in grouped]
    issued, skipped = _issue_own(patients, actor=actor, statement_date=statement_date, due_date=due_date)
    return issued + combined_issued, skipped + combined_skipped


def _grouped_ids(patient_ids: list[int], today: date) -> set[int]:
    """Those of PATIENT_IDS who have a guarantor or pay for someone on TODAY."""
    links = GuarantorLink.objects.filter(
        Q(patient_id__any_of=patient_ids) | Q(guarantor_id__any_of=patient_ids),
        ends_on__isnull=True,
        starts_on__lte=today,
    ).values_list("patient_id", "guarantor_id")
    return {pk for pair in links for pk in pair} & set(patient_ids)


def _issue_combined(
    patients: list[Patient], *, actor: Actor, statement_date: date, due_date: date
) -> tuple[int, int]:
    """One combined statement per guarantor among PATIENTS' holders, unless the holder already has one of
    STATEMENT_DATE (another chunk of the run reached the same family first); (issued, skipped)."""
    issued = skipped = 0
    done: set[int] = set()
    for patient in patients:
        holder, _group = statement_holder(patient)
        if holder.pk in done:
            continue
        done.add(holder.pk)
        # The holder's row first: a parallel chunk with another member of the family waits here, then sees
        # the statement this one issued.
        Patient.objects.select_for_update().filter(pk=holder.pk).values_list("pk", flat=True).first()
        if Statement.objects.filter(
            patient_id=holder.pk, statement_date=statement_date, state=StatementState.ISSUED
        ).exists():
            continue
        try:
            with transaction.atomic():
                statement_issue(
                    patient=patient, actor=actor, statement_date=statement_date,
                    due_in_days=max(1, (due_date - statement_date).days),
                )  # fmt: skip
            issued += 1
        except ValidationError:
            skipped += 1  # no visit of the family is ready
    return issued, skipped


def _issue_own(
    patients: list[Patient], *, actor: Actor, statement_date: date, due_date: date
) -> tuple[int, int]:
    """Each of PATIENTS' own statement, set-wise (no guarantor on either side); (issued, skipped)."""
    if not patients:
        return 0, 0
    drafts = statement_line_drafts_of([p.pk for p in patients])
    ready = [p for p in patients if any(d.kind == "charge" for d in drafts[p.pk])]
    skipped = len(patients) - len(ready)
    if not ready:
        return 0, skipped
    ready_ids = [p.pk for p in ready]
    # The lock statement_issue and payment_record take, so a payment racing the run waits for it.
    Patient.objects.select_for_update().filter(pk__any_of=ready_ids).values_list("pk", flat=True).count()
    # One instance per location, its messaging policy loaded once: quiet hours read it for every message.
    locations = {p.primary_location_id: p.primary_location for p in ready if p.primary_location_id}
    prefetch_related_objects([loc for loc in locations.values() if loc is not None], "messaging_policy")
    for p in ready:
        if p.primary_location_id:
            p.primary_location = locations[p.primary_location_id]
    found = _plans(ready)
    plans = found.by_patient
    now = timezone.now()
    label = actor.label[:60]
    previous = list(
        Statement.objects.filter(patient_id__any_of=ready_ids, state=StatementState.ISSUED).values_list(
            "pk", flat=True
        )
    )
    statements = [
        Statement(
            patient=p,
            statement_date=statement_date,
            due_date=due_date,
            amount_due_cents=statement_totals(drafts[p.pk]).amount_due,
            channel=plans[p.pk].channel,
            channel_reason=plans[p.pk].reason[:200],
            issued_at=now,
        )
        for p in ready
    ]
    ids = rows_copy(
        Statement,
        ("patient_id", "statement_date", "due_date", "amount_due_cents", "currency", "channel",
         "channel_reason", "issued_at", "state"),
        [
            (s.patient_id, s.statement_date, s.due_date, s.amount_due_cents, s.currency, s.channel,
             s.channel_reason, s.issued_at, StatementState.ISSUED.value)
            for s in statements
        ],
        ids=True,
    )  # fmt: skip
    for statement, pk in zip(statements, ids, strict=True):
        statement.pk = pk
    events: list[Event] = []
    if previous:
        Statement.objects.filter(pk__in=previous).update(state=StatementState.SUPERSEDED)
        for pk in previous:
            messages_withdraw_for_subject(subject_key=statement_subject_key(pk), reason="superseded")
            events.append((pk, StatementEventKind.SUPERSEDED.value, now, label, "", None))
    rows_copy(
        StatementLine,
        LINE_FIELDS,
        (
            _line(statement.pk, index, draft)
            for statement in statements
            for index, draft in enumerate(drafts[statement.patient_id], start=1)
        ),
    )
    for statement in statements:
        events.append(
            (
                statement.pk,
                StatementEventKind.ISSUED.value,
                now,
                label,
                f"{statement.amount_due_cents} cents",
                None,
            )
        )
    events += _deliver_many(statements, label, found)
    rows_copy(StatementEvent, EVENT_FIELDS, events)
    publish_many(
        [
            StatementIssued(
                statement_id=statement.pk,
                patient_id=statement.patient_id,
                payer_id=statement.payer_id,
                amount_due_cents=statement.amount_due_cents,
                currency=statement.currency,
                due_date=statement.due_date.isoformat(),
                channel=statement.channel,
            )
            for statement in statements
        ]
    )
    # Last: the audit trail's chain lock (PostgreSQL) is held from here to the commit, so parallel chunks wait
    # on each other only for this insert.
    audit_patients_record(
        actor=actor, action=AuditAction.CREATE, patient_ids=[s.patient_id for s in statements],
        detail="statement issued (statement run)",
    )  # fmt: skip
    return len(statements), skipped


def _line(statement_id: int, index: int, d: LineDraft) -> tuple[object, ...]:
    return (
        statement_id, index, d.kind, d.visit_id, d.charge_id, d.line_date, d.service_code, d.description[:200],
        d.charged_cents, d.insurance_paid_cents, d.insurance_adjusted_cents, d.amount_cents,
    )  # fmt: skip


def _deliver_many(statements: list[Statement], label: str, plans: Plans) -> list[Event]:
    """Texts and emails for STATEMENTS (one bulk send per channel; the texts to the numbers and with the
    suppression facts of PLANS), and the history entries of all of them."""
    now = timezone.now()
    events: list[Event] = []
    by_channel: dict[str, list[tuple[Statement, OutboundItem]]] = {
        StatementChannel.SMS: [],
        StatementChannel.EMAIL: [],
    }
    text, subject, email_body = statement_first_text(), STATEMENT_EMAIL_SUBJECT, STATEMENT_EMAIL_BODY
    for statement in statements:
        if statement.channel == StatementChannel.MAIL:
            detail = f"mail batch of {statement.statement_date}"
            events.append((statement.pk, StatementEventKind.MAILED.value, now, label, detail[:200], None))
            continue
        if statement.channel == StatementChannel.PORTAL:
            detail = statement.channel_reason
            events.append((statement.pk, StatementEventKind.PORTAL.value, now, label, detail[:200], None))
            continue
        payer = statement.patient
        body, title = statement_message_text(
            statement, payer, text=text, subject=subject, email_body=email_body
        )
        key = f"{statement_subject_key(statement.pk)}:issued"
        # A text goes to the number its plan checked (the one message_send would choose: patient_sms_number).
        to_address = plans.numbers[payer.pk] or None if statement.channel == StatementChannel.SMS else None
        item = OutboundItem(
            body=body, idempotency_key=key, patient=payer, to_address=to_address, subject=title,
            subject_key=statement_subject_key(statement.pk), sensitive=True,
        )  # fmt: skip
        by_channel[statement.channel].append((statement, item))
    sent = StatementEventKind.SENT.value
    for kind, pairs in by_channel.items():
        if not pairs:
            continue
        channel = channel_default("sms" if kind == StatementChannel.SMS else "email")
        if channel is None:
            events += [(s.pk, sent, now, label, "not sent: no channel", None) for s, _ in pairs]
            continue
        results = messages_send_bulk(
            items=[item for _, item in pairs],
            channel=channel,
            kind=MessageKind.AUTOMATED,
            purpose=Purpose.BILLING,
            facts=plans.facts if kind == StatementChannel.SMS else None,
        )
        for statement, item in pairs:
            result = results.get(item.idempotency_key)
            if isinstance(result, MessageRefused) or result is None:
                events.append((statement.pk, sent, now, label, f"not sent: {result}"[:200], None))
            else:
                events.append((statement.pk, sent, now, label, statement.get_channel_display(), result.pk))
    return events
