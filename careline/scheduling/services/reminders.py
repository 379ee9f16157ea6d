"""Reminder planning and sending, and the notices a patient gets when the clinic books, moves or cancels.

Planning writes one Reminder row per (rule, channel) with its due time, computed on the patient's local
calendar (so "2 days before at 18:00" is right across daylight-saving changes) and pulled earlier out of
quiet hours, never after the visit starts. A reminder whose time has already passed when the visit is
booked is recorded as SKIPPED with the reason, so no stale "in 3 days" text goes out and staff see why.

Sending is a sweep (never a Celery ETA: with Redis a long ETA is redelivered after the visibility timeout
and runs twice): `reminders_sweep` claims due PENDING rows (FOR UPDATE SKIP LOCKED on PostgreSQL, a
conditional UPDATE elsewhere) in batches, marks them SENDING, and enqueues one task per batch;
`reminders_send` re-checks each visit, renders the rule's template and hands the text to `message_send`
under the key "reminder:<id>", so a batch run twice (a lost ack, a recovered row) still makes one message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from careline.core.broker_loss import tasks_lost_before
from careline.core.collector import collection_paused
from careline.core.languages import say, text_language
from careline.core.queue import task_enqueue
from careline.core.rowcopy import rows_copy, rows_copy_new, rows_update
from careline.locations.models import Location
from careline.messaging.models import Channel, Message, MessageKind, MessageState, Prompt
from careline.messaging.outbound.bulk import OutboundItem, messages_send_bulk
from careline.messaging.outbound.compose import MessageRefused, message_send
from careline.messaging.outbound.dispatch import messages_dispatch, messages_dispatch_claimed
from careline.messaging.outbound.queue import messages_enqueue_batching, messages_enqueue_held
from careline.messaging.services.prompts import prompts_record_once
from careline.messaging.templating import TemplateKind, TemplateProblem, template_render, template_validate
from careline.patients.events import PatientUpdated
from careline.patients.models import ContactPreference, Patient, Purpose
from careline.scheduling.events import AppointmentBooked, AppointmentCancelled, AppointmentMoved
from careline.scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentType,
    Reminder,
    ReminderRule,
    ReminderState,
)
from careline.scheduling.prompts import OWNER as PROMPT_OWNER
from careline.scheduling.prompts import PromptKind
from careline.scheduling.services.reminder_replans import reminder_replans_resume
from careline.scheduling.services.reminder_times import SKIP_AFTER_START as SKIP_AFTER_START
from careline.scheduling.services.reminder_times import SKIP_NO_WINDOW as SKIP_NO_WINDOW
from careline.scheduling.services.reminder_times import SKIP_PASSED as SKIP_PASSED
from careline.scheduling.services.reminder_times import (
    PlanTimes,
    reminder_channels,
    window_for,
    zone_named,
)
from careline.scheduling.services.visit_texts import (
    WITHDRAWN_CANCELLED,
    WITHDRAWN_MOVED,
    appointment_subject,
    appointment_texts_withdraw,
)
from careline.scheduling.texts import (
    EMAIL_SUBJECTS,
    NOTICE_TEMPLATES,
    TextPieces,
    visit_facts,
    with_reply_sentence,
)

logger = logging.getLogger(__name__)

PLAN_CHUNK = 5000  # appointments loaded per query when planning in bulk
CLAIM_BATCH = 200  # reminders per sending task (and per claim where there is no claim statement)
CLAIM_STATEMENT = 2000  # reminders one claim statement takes on PostgreSQL, then split into sending batches
SWEEP_MAX = 50_000  # reminders claimed and not yet sent at most, counting earlier sweeps' claims
# A row SENDING longer than this lost its task: claim it again.
SENDING_TIMEOUT = timedelta(seconds=settings.CARELINE_SENDING_TIMEOUT_SECONDS)


# --- planning -------------------------------------------------------------------------------------------


def _rules_active() -> list[ReminderRule]:
    return list(
        ReminderRule.objects.filter(is_active=True).prefetch_related("appointment_types", "locations")
    )


@dataclass(frozen=True)
class _RuleScope:
    """A rule with the appointment types and locations it covers, read once per planning run (empty: all)."""

    rule: ReminderRule
    type_ids: frozenset[int]
    location_ids: frozenset[int]

    def covers(self, type_id: int, location_id: int) -> bool:
        return (not self.type_ids or type_id in self.type_ids) and (
            not self.location_ids or location_id in self.location_ids
        )


# The reminder columns planning writes; every other column takes its default (no message, not claimed).
PLAN_FIELDS = (
    "appointment_id",
    "rule_id",
    "channel",
    "appointment_starts_at",
    "due_at",
    "state",
    "skip_reason",
    "held_for_quiet_hours",
)
PLAN_COLUMNS = (
    "pk",
    "patient_id",
    "starts_at",
    "status",
    "location_id",
    "appointment_type_id",
    "appointment_type__reminders_apply",
    "patient__time_zone",
    "patient__primary_location__time_zone",
)


def _windows(location_ids: Iterable[int], cache: dict[int, tuple[time, time]]) -> None:
    """Fill CACHE with the texting window of each of LOCATION_IDS not in it yet (one query)."""
    missing = set(location_ids) - set(cache)
    if missing:
        for location in Location.objects.filter(pk__in=missing).select_related("messaging_policy"):
            window_for(location, cache)


def _chunk_read(chunk: list[int]) -> tuple[list[tuple[Any, ...]], bool]:
    """The PLAN_COLUMNS of the visits in CHUNK, each with the patient's appointments channel preference (or
    None) last; and whether any of them has reminders already (re-planning).

    On PostgreSQL one query with the ids as one array parameter: an IN list of thousands of ids cost more to
    compile on the client (in Django and psycopg) than the database spent answering it.
    """
    if connection.vendor != "postgresql":
        appointments = list(Appointment.objects.filter(pk__in=chunk).values_list(*PLAN_COLUMNS))
        preferences = dict(
            ContactPreference.objects.filter(
                patient_id__in={row[1] for row in appointments}, purpose=Purpose.APPOINTMENTS
            ).values_list("patient_id", "channel")
        )
        replanning = Reminder.objects.filter(appointment_id__in=chunk).exists()
        return [(*row, preferences.get(row[1])) for row in appointments], replanning
    qn = connection.ops.quote_name
    sql = f"""
        SELECT a.id, a.patient_id, a.starts_at, a.status, a.location_id, a.appointment_type_id,
               t.reminders_apply, p.time_zone, l.time_zone, cp.channel,
               EXISTS (SELECT 1 FROM {qn(Reminder._meta.db_table)} r WHERE r.appointment_id = a.id)
          FROM {qn(Appointment._meta.db_table)} a
          JOIN {qn(AppointmentType._meta.db_table)} t ON t.id = a.appointment_type_id
          JOIN {qn(Patient._meta.db_table)} p ON p.id = a.patient_id
          JOIN {qn(Location._meta.db_table)} l ON l.id = p.primary_location_id
          LEFT JOIN {qn(ContactPreference._meta.db_table)} cp ON cp.patient_id = a.patient_id AND cp.purpose = %s
         WHERE a.id = ANY(%s)
    """  # noqa: S608 - table names from the models
    with connection.cursor() as cursor:
        cursor.execute(sql, [Purpose.APPOINTMENTS, chunk])
        rows = cursor.fetchall()
    return [row[:-1] for row in rows], any(row[-1] for row in rows)


def _rows_written(rows: list[tuple[Any, ...]], *, first_planning: bool) -> int:
    """Write planned reminder ROWS; how many were inserted.

    The first planning of visits (bulk loads, imports) copies straight into the table. A row the unique plan
    constraint already holds (a concurrent planner got there first) then rolls that copy back, and the rows
    go through rows_copy_new, which skips held rows, as every re-planning does.
    """
    if first_planning and rows:
        try:
            with transaction.atomic():
                rows_copy(Reminder, PLAN_FIELDS, rows, binary=True)
            return len(rows)
        except IntegrityError:
            pass
    return rows_copy_new(Reminder, PLAN_FIELDS, rows)


def reminders_plan_bulk(*, appointment_ids: Sequence[int], now: datetime | None = None) -> int:
    """(Re)plan reminders for many appointments with a few queries per chunk; returns rows written.

    Pending reminders planned for another visit time are withdrawn; an inactive visit keeps none pending.
    Re-planning follows the patient's reminder channel: a pending reminder on a channel no longer chosen is
    withdrawn, and only the chosen channel's withdrawn reminders come back; a rule that already reminded
    the visit (on any channel) adds none. Re-running is harmless: the unique plan constraint ignores rows
    that already exist.

    Set-based: appointments are read as plain values in one query per chunk (no model instances), due times
    computed with the same rules as `reminder_plan_time` (`PlanTimes`: each piece once per local day), and
    rows written with COPY on PostgreSQL.
    """
    with collection_paused():
        return _reminders_plan_bulk(appointment_ids=appointment_ids, now=now)


def _reminders_plan_bulk(*, appointment_ids: Sequence[int], now: datetime | None) -> int:
    now = now or timezone.now()
    scopes = [
        _RuleScope(
            rule=rule,
            type_ids=frozenset(t.pk for t in rule.appointment_types.all()),
            location_ids=frozenset(loc.pk for loc in rule.locations.all()),
        )
        for rule in _rules_active()
    ]
    windows: dict[int, tuple[time, time]] = {}
    zones: dict[str, Any] = {}
    times = PlanTimes(now)
    written = 0
    for start in range(0, len(appointment_ids), PLAN_CHUNK):
        chunk = list(appointment_ids[start : start + PLAN_CHUNK])
        appointments, replanning = _chunk_read(chunk)
        _windows({row[4] for row in appointments}, windows)
        # A visit moved in place (or no longer active) keeps nothing pending for its old time.
        if replanning:
            Reminder.objects.filter(appointment_id__in=chunk, state=ReminderState.PENDING).exclude(
                appointment_starts_at=F("appointment__starts_at"), appointment__status__in=ACTIVE_STATUSES
            ).update(state=ReminderState.WITHDRAWN, skip_reason="The visit moved or was cancelled")
        rows: list[tuple[Any, ...]] = []
        planned: dict[tuple[int, int], list[str]] = {}  # (visit, rule) -> the channels it reminds on
        for (
            pk,
            _patient_id,
            starts_at,
            status,
            location_id,
            type_id,
            applies,
            own_zone,
            home_zone,
            preference,
        ) in appointments:
            if status not in ACTIVE_STATUSES or not applies:
                continue
            zone_name = own_zone or home_zone
            zone = zones.get(zone_name)
            if zone is None:
                zone = zones[zone_name] = zone_named(zone_name)
            window = windows[location_id]
            for scope in scopes:
                if not scope.covers(type_id, location_id):
                    continue
                rule = scope.rule
                due, held, reason = times.plan(rule, starts_at=starts_at, zone=zone, window=window)
                state = ReminderState.SKIPPED if reason else ReminderState.PENDING
                channels = reminder_channels(rule.channel, preference)
                planned[(pk, rule.pk)] = channels
                for channel in channels:
                    rows.append((pk, rule.pk, channel, starts_at, due, state, reason, held))
        if replanning:
            restore = _replan_channels(chunk, planned, now)
            rows = [row for row in rows if (row[0], row[1]) not in restore.reminded]
        written += _rows_written(rows, first_planning=not replanning)
        if replanning:
            # A visit moved away and back (or the patient's channel changed back): its earlier rows for this
            # time and channel come back if still ahead.
            Reminder.objects.filter(pk__in=restore.ids, state=ReminderState.WITHDRAWN).update(
                state=ReminderState.PENDING, skip_reason=""
            )
    return written


WITHDRAWN_CHANNEL = "The patient's reminder channel changed"


@dataclass
class _Restore:
    """What re-planning a chunk found: withdrawn rows to bring back, and (visit, rule) pairs already reminded."""

    ids: list[int]
    reminded: set[tuple[int, int]]


def _replan_channels(chunk: list[int], planned: dict[tuple[int, int], list[str]], now: datetime) -> _Restore:
    """Withdraw the chunk's pending reminders on a channel the patient no longer gets reminders by, and find
    the withdrawn ones of the chosen channel that may come back (one read, at most one write)."""
    current = list(
        Reminder.objects.filter(
            appointment_id__in=chunk,
            appointment_starts_at=F("appointment__starts_at"),
            appointment__status__in=ACTIVE_STATUSES,
        ).values_list("pk", "appointment_id", "rule_id", "channel", "state", "message_id", "due_at")
    )
    reminded = {
        (visit, rule)
        for _, visit, rule, _, state, message, _ in current
        if state in (ReminderState.SENT, ReminderState.SENDING) or message is not None
    }
    withdraw = [
        pk
        for pk, visit, rule, channel, state, _, _ in current
        if state == ReminderState.PENDING
        and (visit, rule) in planned
        and channel not in planned[(visit, rule)]
    ]
    if withdraw:
        Reminder.objects.filter(pk__in=withdraw, state=ReminderState.PENDING).update(
            state=ReminderState.WITHDRAWN, skip_reason=WITHDRAWN_CHANNEL
        )
    ids = [
        pk
        for pk, visit, rule, channel, state, message, due in current
        if state == ReminderState.WITHDRAWN
        and message is None
        and due > now
        and channel in planned.get((visit, rule), ())
        and (visit, rule) not in reminded
    ]
    return _Restore(ids=ids, reminded=reminded)


def reminders_plan_for_appointment(appointment: Appointment) -> list[Reminder]:
    """(Re)plan APPOINTMENT's reminders for its current time; withdraw pending ones for any other time."""
    reminders_plan_bulk(appointment_ids=[appointment.pk])
    return list(Reminder.objects.filter(appointment=appointment, appointment_starts_at=appointment.starts_at))


def reminders_withdraw_for_appointment(appointment: Appointment, *, reason: str) -> int:
    """Withdraw every pending reminder of APPOINTMENT (cancelled); returns how many."""
    return Reminder.objects.filter(appointment=appointment, state=ReminderState.PENDING).update(
        state=ReminderState.WITHDRAWN, skip_reason=(reason or "The visit was cancelled")[:200]
    )


# --- the sweep --------------------------------------------------------------------------------------------


def _claim_batch(now: datetime, size: int) -> list[int]:
    """Claim up to SIZE due reminders (PENDING -> SENDING), earliest due first; only this caller gets the
    returned ids."""
    if connection.vendor == "postgresql":
        return _claim_statement(now, size)
    due = Reminder.objects.filter(state=ReminderState.PENDING, due_at__lte=now).order_by("due_at", "id")
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            ids = list(due.select_for_update(skip_locked=True).values_list("pk", flat=True)[:size])
            if ids:
                Reminder.objects.filter(pk__in=ids).update(state=ReminderState.SENDING, claimed_at=now)
        return ids
    # SQLite serializes writers: the conditional UPDATE per row decides who wins each one.
    won = []
    for pk in due.values_list("pk", flat=True)[:size]:
        if Reminder.objects.filter(pk=pk, state=ReminderState.PENDING).update(
            state=ReminderState.SENDING, claimed_at=now
        ):
            won.append(pk)
    return won


def _claim_statement(now: datetime, size: int) -> list[int]:
    """_claim_batch on PostgreSQL: one UPDATE of the rows a locking subquery picks (rows another sweep holds
    are skipped), returning them.

    The pick is a MATERIALIZED CTE: as `WHERE id IN (SELECT ... LIMIT n)` the planner may run the subquery
    once per outer row (a nested-loop semi-join), each run with a LIMIT of its own, and claim more than n.
    """
    qn = connection.ops.quote_name
    table = qn(Reminder._meta.db_table)
    sql = f"""
        WITH picked AS MATERIALIZED (
            SELECT id FROM {table} WHERE state = %s AND due_at <= %s
             ORDER BY due_at, id LIMIT %s FOR UPDATE SKIP LOCKED
        )
        UPDATE {table} AS r SET state = %s, claimed_at = %s
          FROM picked WHERE r.id = picked.id
        RETURNING r.id, r.due_at
    """  # noqa: S608 - the table name from the model
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [ReminderState.PENDING, now, size, ReminderState.SENDING, now])
        claimed = cursor.fetchall()
    return [pk for pk, _ in sorted(claimed, key=lambda row: (row[1], row[0]))]


def reminders_claim(
    *, now: datetime | None = None, limit: int = SWEEP_MAX, on_batch: Callable[[list[int]], Any] | None = None
) -> list[list[int]]:
    """Recover rows whose task was lost, then claim due reminders in batches; returns the claimed batches.

    At most LIMIT reminders are claimed and not yet sent at any time (those claimed by earlier sweeps count):
    a backlog larger than the workers get through within SENDING_TIMEOUT is claimed as they go, not all at
    once, or its last rows would be recovered and claimed a second time while their tasks still wait.
    ON_BATCH gets each batch as soon as its claim is committed (the sweep enqueues it: workers start early).
    """
    now = now or timezone.now()
    # A claim whose task was lost (its worker died, or the broker lost it: core/broker_loss.py) is undone.
    lost_before = tasks_lost_before(now, after=SENDING_TIMEOUT.total_seconds(), watcher="reminders")
    Reminder.objects.filter(state=ReminderState.SENDING, claimed_at__lt=lost_before).update(
        state=ReminderState.PENDING, claimed_at=None
    )
    batches: list[list[int]] = []
    claimed = Reminder.objects.filter(state=ReminderState.SENDING).count()
    size = CLAIM_STATEMENT if connection.vendor == "postgresql" else CLAIM_BATCH
    while claimed < limit:
        ids = _claim_batch(now, min(size, limit - claimed))
        if not ids:
            break
        claimed += len(ids)
        for start in range(0, len(ids), CLAIM_BATCH):
            batch = ids[start : start + CLAIM_BATCH]
            batches.append(batch)
            if on_batch is not None:
                on_batch(batch)
    return batches


def _send_later(reminder_ids: list[int]) -> None:
    task_enqueue("scheduling.send_reminders", reminder_ids)


def reminders_sweep(*, now: datetime | None = None, limit: int = SWEEP_MAX) -> dict[str, int]:
    """Claim due reminders and enqueue one sending task per batch; safe to run on many hosts at once."""
    reminder_replans_resume(now=now)  # rule re-plans whose task was lost or whose worker died
    batches = reminders_claim(now=now, limit=limit, on_batch=_send_later)
    return {"claimed": sum(len(ids) for ids in batches), "batches": len(batches)}


# --- sending -----------------------------------------------------------------------------------------------


def _channels_by_kind() -> dict[str, Channel | None]:
    from careline.messaging.services.channels import channel_default

    return {"sms": channel_default("sms"), "email": channel_default("email")}


def reminder_text(
    reminder: Reminder, *, channel: str = "sms", pieces: TextPieces | None = None
) -> tuple[str, str]:
    """(body, language) of REMINDER's text: the rule's template in the patient's language, plus reply words.

    PIECES: the batch's shared TextPieces (the same text; what repeats across the batch is made once).
    """
    rule = reminder.rule
    assert rule is not None
    appointment = reminder.appointment
    template, language = rule.template_for(appointment.patient.language)
    # A rule saved before templates were checked is skipped with the reason, never sent half-filled.
    template_validate(template, kind=TemplateKind.REMINDER)
    facts = visit_facts(appointment, language=language, pieces=pieces)
    body = template_render(template, facts, kind=TemplateKind.REMINDER)
    if channel == "sms":
        body = with_reply_sentence(body, language, pieces=pieces)
    return body, language


def reminders_send(*, reminder_ids: Iterable[int], now: datetime | None = None) -> dict[str, int]:
    """Send claimed (SENDING) reminders through messaging; a row sent already, or not claimed, is left alone.

    The batch is one transaction holding its rows locked (a redelivered copy of the task skips them, then
    finds them SENT); its messages are made by messages_send_bulk, with message_send's rules.
    """
    return _reminders_send(reminder_ids=reminder_ids, now=now)[0]


def reminders_send_and_dispatch(
    *, reminder_ids: Iterable[int], now: datetime | None = None
) -> dict[str, int]:
    """reminders_send, then (after its commit) its texts on a channel that sends many at once (Twilio's
    asynchronous client) are sent from here, with messages_dispatch's checks, rather than by a task per 50
    through the broker; the others' tasks are queued as usual. Those texts are made already claimed by this
    task (SENDING), so no claim and no reading back stand between the commit and the sending.

    A worker that dies before sending them leaves them claimed: the outbound sweep takes them back after
    the sending timeout, asking the provider first, as for any worker that stopped while sending.
    """
    # Inside an outer batching block the outer block sends: nothing is made claimed for this one to send.
    claimed: list[Message] | None = None if messages_enqueue_batching() else []
    with messages_enqueue_held() as held:
        counts, channels = _reminders_send(reminder_ids=reminder_ids, now=now, claimed=claimed)
        # Texts made claimed are sent from here; those made one at a time (a key taken concurrently) were
        # queued and are taken out of the held tasks to be claimed and sent here too.
        here = [pk for pk in held if pk in channels and channels[pk].type.sends_many_at_once]
        if here:
            taken = set(here)
            held[:] = [pk for pk in held if pk not in taken]
            messages_dispatch(here)
        if claimed:
            messages_dispatch_claimed(claimed)
    return counts


def _reminders_send(
    *, reminder_ids: Iterable[int], now: datetime | None, claimed: list[Message] | None = None
) -> tuple[dict[str, int], dict[int, Channel]]:
    """reminders_send's work: its counts, and the channel of each message it made (or found by its key).

    CLAIMED: given, the texts on a channel that sends many at once are made claimed for the caller to send
    (`messages_send_bulk(claimed=...)`), and appended to it."""
    now = now or timezone.now()
    counts = {"sent": 0, "withdrawn": 0, "skipped": 0}
    made: dict[int, Channel] = {}
    with transaction.atomic():
        reminders = _claimed_reminders(list(reminder_ids))
        if not reminders:
            return counts, made
        channels = _channels_by_kind()
        pieces = TextPieces()
        finished: dict[tuple[str, str], list[int]] = {}  # (state, reason) -> reminder ids
        to_send: dict[str, list[tuple[Reminder, OutboundItem]]] = {}  # channel kind -> items
        for reminder in reminders:
            state, reason, item = _reminder_item(reminder, channels=channels, now=now, pieces=pieces)
            if item is None:
                finished.setdefault((state, reason), []).append(reminder.pk)
                counts["withdrawn" if state == ReminderState.WITHDRAWN else "skipped"] += 1
            else:
                to_send.setdefault(reminder.channel, []).append((reminder, item))
        sent: list[Reminder] = []
        prompts: list[Prompt] = []
        for kind, pairs in to_send.items():
            channel = channels[kind]
            assert channel is not None
            results = messages_send_bulk(
                items=[item for _, item in pairs],
                channel=channel,
                kind=MessageKind.AUTOMATED,
                purpose=Purpose.APPOINTMENTS,
                claimed=claimed if channel.type.sends_many_at_once else None,
            )
            for reminder, item in pairs:
                result = results[item.idempotency_key]
                if isinstance(result, MessageRefused):
                    finished.setdefault((ReminderState.SKIPPED, str(result)[:200]), []).append(reminder.pk)
                    counts["skipped"] += 1
                    continue
                reminder.state, reminder.message, reminder.sent_at, reminder.skip_reason = (
                    ReminderState.SENT,
                    result,
                    timezone.now(),
                    "",
                )
                sent.append(reminder)
                made[result.pk] = channel
                counts["sent"] += 1
                if kind == "sms" and result.state != MessageState.SUPPRESSED:
                    prompts.append(
                        Prompt(
                            owner=PROMPT_OWNER,
                            message=result,
                            kind=PromptKind.REMINDER,
                            phone_number=result.to_address,
                            conversation_id=result.conversation_id,
                            subject_key=appointment_subject(reminder.appointment_id),
                            expires_at=reminder.appointment.starts_at,
                        )
                    )
        for (state, reason), ids in finished.items():
            Reminder.objects.filter(pk__any_of=ids, state=ReminderState.SENDING).update(
                state=state, skip_reason=reason[:200], sent_at=None
            )
        rows_update(
            Reminder,
            ("state", "message_id", "sent_at", "skip_reason"),
            [(r.pk, r.state, r.message_id, r.sent_at, r.skip_reason) for r in sent],
        )
        # A message found by its key (an earlier, interrupted run) may have its prompt already.
        prompts_record_once(prompts=prompts)
    return counts, made


def _claimed_reminders(reminder_ids: list[int]) -> list[Reminder]:
    """The claimed (SENDING) reminders among REMINDER_IDS, locked (rows another worker holds are skipped),
    each with its visit and patient (and the patient's phones).

    What many rows share, their rules, visit types and locations (with their texting policy), is read once
    per batch and the same instances attached to every row that names them, rather than joined into every
    row and built again for each.
    """
    rows = Reminder.objects.filter(pk__any_of=reminder_ids, state=ReminderState.SENDING)
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True, of=("self",))
    reminders = list(
        rows.select_related("appointment__patient").prefetch_related("appointment__patient__phones")
    )
    if not reminders:
        return reminders
    visits = [reminder.appointment for reminder in reminders]
    rules = ReminderRule.objects.in_bulk({r.rule_id for r in reminders if r.rule_id is not None})
    kinds = AppointmentType.objects.in_bulk({visit.appointment_type_id for visit in visits})
    locations = Location.objects.select_related("messaging_policy").in_bulk(
        {visit.location_id for visit in visits} | {visit.patient.primary_location_id for visit in visits}
    )
    for reminder, visit in zip(reminders, visits, strict=True):
        _REMINDER_RULE.set_cached_value(reminder, rules.get(reminder.rule_id))
        _VISIT_TYPE.set_cached_value(visit, kinds[visit.appointment_type_id])
        _VISIT_LOCATION.set_cached_value(visit, locations[visit.location_id])
        _PATIENT_LOCATION.set_cached_value(visit.patient, locations[visit.patient.primary_location_id])
    return reminders


_REMINDER_RULE = Reminder._meta.get_field("rule")
_VISIT_TYPE = Appointment._meta.get_field("appointment_type")
_VISIT_LOCATION = Appointment._meta.get_field("location")
_PATIENT_LOCATION = Patient._meta.get_field("primary_location")


def _reminder_item(
    reminder: Reminder, *, channels: dict[str, Channel | None], now: datetime, pieces: TextPieces
) -> tuple[str, str, OutboundItem | None]:
    """(state, reason, None) when REMINDER is not to be sent now; else ('', '', the message to send)."""
    appointment = reminder.appointment
    if (
        appointment.status not in ACTIVE_STATUSES
        or appointment.starts_at != reminder.appointment_starts_at
        or appointment.starts_at <= now
    ):
        return ReminderState.WITHDRAWN, "The visit moved, was cancelled or has started", None
    rule = reminder.rule
    channel = channels.get(reminder.channel)
    if rule is None or not rule.is_active or channel is None:
        reason = "The rule was turned off" if channel else f"No {reminder.get_channel_display()} channel"
        return ReminderState.SKIPPED, reason, None
    try:
        body, language = reminder_text(reminder, channel=reminder.channel, pieces=pieces)
    except TemplateProblem as problem:
        return ReminderState.SKIPPED, str(problem), None
    return (
        "",
        "",
        OutboundItem(
            body=body,
            idempotency_key=f"reminder:{reminder.pk}",
            patient=appointment.patient,
            subject=say(EMAIL_SUBJECTS["reminder"], language) if reminder.channel == "email" else "",
            subject_key=appointment_subject(appointment.pk),
        ),
    )


# --- notices ---------------------------------------------------------------------------------------------


def appointment_channel_for(patient: Patient) -> Channel | None:
    from careline.messaging.services.channels import channel_default

    preference = (
        ContactPreference.objects.filter(patient=patient, purpose=Purpose.APPOINTMENTS)
        .values_list("channel", flat=True)
        .first()
    )
    if preference == "email" and patient.email:
        return channel_default("email") or channel_default("sms")
    return channel_default("sms")


def appointment_notify(appointment: Appointment, *, event: str) -> None:
    """Text the patient about EVENT ('booked', 'moved', 'cancelled') made by the clinic."""
    template = NOTICE_TEMPLATES.get(event)
    if template is None:
        raise ValueError(f"Unknown appointment event {event!r}")
    if appointment.starts_at <= timezone.now():
        return  # a past visit (an import, a late correction): nothing useful to tell the patient
    patient = appointment.patient
    channel = appointment_channel_for(patient)
    if channel is None:
        logger.warning("No channel to notify appointment %s (%s)", appointment.pk, event)
        return
    language = text_language(patient.language)
    body = template_render(
        say(template, language), visit_facts(appointment, language=language), kind=TemplateKind.NOTICE
    )
    kwargs: dict[str, Any] = {}
    if "email" in channel.type.capabilities:
        kwargs["subject"] = say(EMAIL_SUBJECTS[event], language)
    try:
        message_send(
            body=body,
            patient=patient,
            channel=channel,
            kind=MessageKind.AUTOMATED,
            purpose=Purpose.APPOINTMENTS,
            idempotency_key=f"notify:{event}:{appointment.pk}",
            subject_key=appointment_subject(appointment.pk),
            **kwargs,
        )
    except MessageRefused:
        logger.warning("Notice %s for appointment %s refused", event, appointment.pk)


# --- reactions to appointment events (subscribed in SchedulingConfig.ready) ------------------------------


def reminders_on_booked(event: AppointmentBooked) -> None:
    """Plan a visit booked active (inside the booking's transaction: a failure undoes the booking)."""
    if event.status in ACTIVE_STATUSES:
        reminders_plan_for_appointment(Appointment.objects.get(pk=event.appointment_id))


def reminders_on_moved(event: AppointmentMoved) -> None:
    """Withdraw the old visit's reminders and waiting texts and plan the new visit (inside the move)."""
    old = Appointment.objects.get(pk=event.previous_appointment_id)
    reminders_withdraw_for_appointment(old, reason="moved")
    # A confirmation or notice still waiting (quiet hours) would tell the old time: withdrawn.
    appointment_texts_withdraw(old, reason=WITHDRAWN_MOVED)
    reminders_plan_for_appointment(Appointment.objects.get(pk=event.appointment_id))


def reminders_on_patient_updated(event: PatientUpdated) -> None:
    """Re-plan the patient's upcoming visits when their contact preferences changed (inside the change), so
    reminders already planned go by the channel chosen now."""
    if "contact_preferences" not in event.fields:
        return
    upcoming = Appointment.objects.filter(
        patient_id=event.patient_id, starts_at__gt=timezone.now(), status__in=ACTIVE_STATUSES
    ).order_by("pk")
    ids = list(upcoming.values_list("pk", flat=True))
    if ids:
        reminders_plan_bulk(appointment_ids=ids)


def reminders_on_cancelled(event: AppointmentCancelled) -> None:
    """Withdraw a cancelled visit's reminders and waiting texts (inside the cancellation)."""
    appointment = Appointment.objects.get(pk=event.appointment_id)
    reminders_withdraw_for_appointment(appointment, reason="cancelled")
    appointment_texts_withdraw(appointment, reason=WITHDRAWN_CANCELLED)


def _for_notice(appointment_id: int) -> Appointment:
    return Appointment.objects.select_related("patient", "location", "clinician", "appointment_type").get(
        pk=appointment_id
    )


def notices_on_booked(event: AppointmentBooked) -> None:
    """Send the booking confirmation after commit, when the patient is to be told."""
    if event.notify:
        appointment_notify(_for_notice(event.appointment_id), event="booked")


def notices_on_moved(event: AppointmentMoved) -> None:
    """Tell the patient the new time after commit, when they are to be told."""
    if event.notify:
        appointment_notify(_for_notice(event.appointment_id), event="moved")


def notices_on_cancelled(event: AppointmentCancelled) -> None:
    """Tell the patient of the clinic's cancellation after commit, when they are to be told."""
    if event.notify:
        appointment_notify(_for_notice(event.appointment_id), event="cancelled")
