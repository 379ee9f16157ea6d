"""Re-planning upcoming visits' reminders when a rule is added, changed or turned off.

A rule change writes a ReminderReplan row in the same transaction and enqueues its id after commit; a
worker claims the row (conditional UPDATE: one worker wins, a duplicate task finds it taken), then works
through the upcoming visits the rule concerns in batches in id order. Each batch locks the rule's reminder
rows of its visits, makes them match the rule as it is now and saves the cursor and counts with them, so a
worker that dies loses at most its uncommitted batch and the next run resumes there (the reminders sweep
re-enqueues a job left waiting or running without a sign of life).

Per visit: a reminder already sent (or being sent) is never touched or sent again; a pending one is re-timed,
or withdrawn when the rule no longer applies (or its channel is gone), or skipped when its new time has
passed; a missing one is added (pending, or skipped with the reason) unless this rule already reminded the
visit; a withdrawn or skipped one that never went comes back when its time is ahead.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from careline.core.actor import Actor
from careline.core.queue import task_enqueue
from careline.patients.models import ContactPreference, Purpose
from careline.scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    Reminder,
    ReminderReplan,
    ReminderRule,
    ReminderState,
)
from careline.scheduling.services.reminder_times import (
    SKIP_PASSED,
    reminder_channels,
    reminder_plan_time,
    reminder_row,
    rule_applies,
    window_for,
)

REPLAN_BATCH = 500  # visits per batch (one transaction each)
REPLAN_STALE = timedelta(minutes=5)  # a running job silent this long lost its worker
REPLAN_LOST_TASK = timedelta(minutes=2)  # a job still waiting this long lost its task
SKIP_PASSED_RULE = "Its time had passed when the rule was added or changed"
WITHDRAWN_NOT_APPLY = "The rule no longer applies to this visit"
WITHDRAWN_OFF = "The rule was turned off"
SENT_STATES = (ReminderState.SENT, ReminderState.SENDING)


def plan_signature(rule: ReminderRule) -> tuple[Any, ...]:
    """What about RULE decides reminders' existence and times (not its name or wording)."""
    if rule.pk is None:
        return ()
    return (
        rule.days_before,
        rule.at_local_time,
        rule.minutes_before,
        rule.channel,
        rule.is_active,
        tuple(sorted(rule.appointment_types.values_list("pk", flat=True))),
        tuple(sorted(rule.locations.values_list("pk", flat=True))),
    )


def reminder_replan_start(*, rule: ReminderRule, reason: str, actor: Actor) -> ReminderReplan:
    """Record a re-plan of RULE's reminders for upcoming visits and run it in the background after commit."""
    replan = ReminderReplan.objects.create(rule=rule, reason=reason, created_by=actor.user)
    replan_id = replan.pk
    transaction.on_commit(lambda: _enqueue(replan_id))
    return replan


def reminder_replan_record_withdrawal(
    *, rule: ReminderRule, withdrawn: int, visits: int, actor: Actor
) -> ReminderReplan:
    """Record a rule turned off, whose pending reminders were withdrawn at once (one statement: no job needed)."""
    now = timezone.now()
    return ReminderReplan.objects.create(
        rule=rule,
        reason=ReminderReplan.Reason.TURNED_OFF,
        state=ReminderReplan.State.DONE,
        total=visits,
        processed=visits,
        withdrawn=withdrawn,
        created_by=actor.user,
        finished_at=now,
    )


def _enqueue(replan_id: int) -> None:
    task_enqueue("scheduling.reminder_replan_run", replan_id)


def _visits(rule: ReminderRule, now: datetime) -> QuerySet[Appointment]:
    """Upcoming active visits the rule concerns: in its scope (while in use), or holding its pending reminders."""
    pending = Q(
        pk__in=Reminder.objects.filter(rule=rule, state=ReminderState.PENDING).values("appointment_id")
    )
    concerned = pending
    if rule.is_active:
        scope = Q(appointment_type__reminders_apply=True)
        type_ids = list(rule.appointment_types.values_list("pk", flat=True))
        location_ids = list(rule.locations.values_list("pk", flat=True))
        if type_ids:
            scope &= Q(appointment_type_id__in=type_ids)
        if location_ids:
            scope &= Q(location_id__in=location_ids)
        concerned = scope | pending
    return Appointment.objects.filter(concerned, status__in=ACTIVE_STATUSES, starts_at__gt=now)


def reminder_replan_run(*, replan_id: int, now: datetime | None = None) -> ReminderReplan | None:
    """Claim the re-plan and work through its visits in batches; None when someone else has it or it is done."""
    now = now or timezone.now()
    claimed = (
        ReminderReplan.objects.filter(pk=replan_id)
        .filter(
            Q(state=ReminderReplan.State.QUEUED)
            | Q(state=ReminderReplan.State.RUNNING, claimed_at__lt=now - REPLAN_STALE)
        )
        .update(state=ReminderReplan.State.RUNNING, claimed_at=now)
    )
    if not claimed:
        return None
    replan = ReminderReplan.objects.select_related("rule").get(pk=replan_id)
    if not replan.total:
        replan.total = _visits(replan.rule, now).count()
        ReminderReplan.objects.filter(pk=replan_id).update(total=replan.total)
    mine = now
    while True:
        with transaction.atomic():
            replan = ReminderReplan.objects.select_for_update().select_related("rule").get(pk=replan_id)
            if replan.state != ReminderReplan.State.RUNNING or replan.claimed_at != mine:
                return None  # taken over by another worker after this one was thought dead
            batch_now = timezone.now()
            rule = ReminderRule.objects.prefetch_related("appointment_types", "locations").get(
                pk=replan.rule_id
            )
            ids = list(
                _visits(rule, batch_now)
                .filter(pk__gt=replan.last_appointment_id)
                .order_by("pk")
                .values_list("pk", flat=True)[:REPLAN_BATCH]
            )
            if not ids:
                replan.state, replan.finished_at = ReminderReplan.State.DONE, batch_now
                replan.total = max(replan.total, replan.processed)
                replan.save(update_fields=["state", "finished_at", "total"])
                return replan
            counts = _replan_batch(rule, ids, batch_now)
            replan.last_appointment_id = ids[-1]
            replan.processed += len(ids)
            replan.added += counts["added"]
            replan.withdrawn += counts["withdrawn"]
            replan.retimed += counts["retimed"]
            replan.too_late += counts["too_late"]
            replan.claimed_at = mine = timezone.now()
            replan.save()


def reminder_replans_resume(*, now: datetime | None = None) -> list[int]:
    """Re-enqueue re-plans whose task was lost or whose worker died (called by the reminders sweep)."""
    now = now or timezone.now()
    ids = list(
        ReminderReplan.objects.filter(
            Q(state=ReminderReplan.State.QUEUED, created_at__lt=now - REPLAN_LOST_TASK)
            | Q(state=ReminderReplan.State.RUNNING, claimed_at__lt=now - REPLAN_STALE)
        ).values_list("pk", flat=True)[:100]
    )
    for replan_id in ids:
        _enqueue(replan_id)
    return ids


def _replan_batch(rule: ReminderRule, ids: list[int], now: datetime) -> Counter[str]:
    """Make RULE's reminders of the visits IDS match the rule as it is now; counts of what changed."""
    counts: Counter[str] = Counter()
    appointments = list(
        Appointment.objects.filter(pk__in=ids).select_related(
            "patient__primary_location", "location__messaging_policy", "appointment_type"
        )
    )
    preferences = dict(
        ContactPreference.objects.filter(
            patient_id__in={a.patient_id for a in appointments}, purpose=Purpose.APPOINTMENTS
        ).values_list("patient_id", "channel")
    )
    # Locked: the sweep cannot claim (and send) a row while this batch changes it.
    rows = list(Reminder.objects.select_for_update().filter(rule=rule, appointment_id__in=ids))
    windows: dict[int, tuple[time, time]] = {}
    new: list[Reminder] = []
    changed: list[Reminder] = []
    for appointment in appointments:
        current = [
            r
            for r in rows
            if r.appointment_id == appointment.pk and r.appointment_starts_at == appointment.starts_at
        ]
        applies = (
            rule.is_active
            and appointment.appointment_type.reminders_apply
            and rule_applies(rule, appointment)
        )
        if not applies:
            for row in current:
                if row.state == ReminderState.PENDING:
                    row.state, row.skip_reason = (
                        ReminderState.WITHDRAWN,
                        WITHDRAWN_OFF if not rule.is_active else WITHDRAWN_NOT_APPLY,
                    )
                    changed.append(row)
                    counts["withdrawn"] += 1
            continue
        due, held, reason = reminder_plan_time(
            rule,
            starts_at=appointment.starts_at,
            zone=appointment.patient.zone,
            window=window_for(appointment.location, windows),
            now=now,
        )
        reason = SKIP_PASSED_RULE if reason == SKIP_PASSED else reason
        channels = reminder_channels(rule.channel, preferences.get(appointment.patient_id))
        already_reminded = any(r.state in SENT_STATES or r.message_id for r in current)
        for row in current:
            if row.state == ReminderState.PENDING and row.channel not in channels:
                row.state, row.skip_reason = ReminderState.WITHDRAWN, WITHDRAWN_NOT_APPLY
                changed.append(row)
                counts["withdrawn"] += 1
        for channel in channels:
            existing = next((r for r in current if r.channel == channel), None)
            if existing is None:
                if already_reminded:
                    continue  # this rule's reminder went already (on another channel): never twice
                new.append(reminder_row(appointment, rule, channel, due=due, held=held, reason=reason))
                counts["too_late" if reason else "added"] += 1
            elif existing.state == ReminderState.PENDING:
                if reason:
                    existing.state, existing.skip_reason, existing.due_at = ReminderState.SKIPPED, reason, due
                    counts["too_late"] += 1
                elif (existing.due_at, existing.held_for_quiet_hours) != (due, held):
                    existing.due_at, existing.held_for_quiet_hours = due, held
                    counts["retimed"] += 1
                else:
                    continue
                changed.append(existing)
            elif (
                existing.state in (ReminderState.WITHDRAWN, ReminderState.SKIPPED)
                and not already_reminded
                and not reason
            ):
                existing.state, existing.skip_reason, existing.due_at, existing.held_for_quiet_hours = (
                    ReminderState.PENDING,
                    "",
                    due,
                    held,
                )
                changed.append(existing)
                counts["added"] += 1
    Reminder.objects.bulk_create(new, batch_size=500, ignore_conflicts=True)
    Reminder.objects.bulk_update(
        changed, ["state", "skip_reason", "due_at", "held_for_quiet_hours"], batch_size=500
    )
    return counts
