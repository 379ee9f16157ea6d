"""The reminder planner as it was before planning went set-based: one model instance per appointment and row.

Kept as the reference the set-based `reminders_plan_bulk` is compared with (test_reminders_plan_reference.py)
and as the baseline of the planning benchmark. Not used by the application.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time

from django.db.models import F
from django.utils import timezone

from careline.patients.models import ContactPreference, Purpose
from careline.scheduling.models import ACTIVE_STATUSES, Appointment, Reminder, ReminderRule, ReminderState
from careline.scheduling.services.reminder_times import (
    reminder_channels,
    reminder_plan_time,
    reminder_row,
    rule_applies,
    window_for,
)
from careline.scheduling.services.reminders import PLAN_CHUNK, _replan_channels


def reminders_plan_bulk_reference(*, appointment_ids: Sequence[int], now: datetime | None = None) -> int:
    """(Re)plan reminders for many appointments, one model instance per appointment and reminder row."""
    now = now or timezone.now()
    rules = list(
        ReminderRule.objects.filter(is_active=True).prefetch_related("appointment_types", "locations")
    )
    windows: dict[int, tuple[time, time]] = {}
    written = 0
    for start in range(0, len(appointment_ids), PLAN_CHUNK):
        chunk = list(appointment_ids[start : start + PLAN_CHUNK])
        appointments = list(
            Appointment.objects.filter(pk__in=chunk).select_related(
                "patient__primary_location", "location__messaging_policy", "appointment_type"
            )
        )
        preferences = dict(
            ContactPreference.objects.filter(
                patient_id__in={a.patient_id for a in appointments}, purpose=Purpose.APPOINTMENTS
            ).values_list("patient_id", "channel")
        )
        replanning = Reminder.objects.filter(appointment_id__in=chunk).exists()
        if replanning:
            Reminder.objects.filter(appointment_id__in=chunk, state=ReminderState.PENDING).exclude(
                appointment_starts_at=F("appointment__starts_at"), appointment__status__in=ACTIVE_STATUSES
            ).update(state=ReminderState.WITHDRAWN, skip_reason="The visit moved or was cancelled")
        rows: list[Reminder] = []
        planned: dict[tuple[int, int], list[str]] = {}
        for appointment in appointments:
            if appointment.status not in ACTIVE_STATUSES or not appointment.appointment_type.reminders_apply:
                continue
            zone = appointment.patient.zone
            window = window_for(appointment.location, windows)
            for rule in rules:
                if not rule_applies(rule, appointment):
                    continue
                due, held, reason = reminder_plan_time(
                    rule, starts_at=appointment.starts_at, zone=zone, window=window, now=now
                )
                channels = reminder_channels(rule.channel, preferences.get(appointment.patient_id))
                planned[(appointment.pk, rule.pk)] = channels
                for channel in channels:
                    rows.append(reminder_row(appointment, rule, channel, due=due, held=held, reason=reason))
        if not replanning:
            written += len(Reminder.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True))
            continue
        restore = _replan_channels(chunk, planned, now)
        rows = [row for row in rows if (row.appointment_id, row.rule_id) not in restore.reminded]
        written += len(Reminder.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True))
        Reminder.objects.filter(pk__in=restore.ids, state=ReminderState.WITHDRAWN).update(
            state=ReminderState.PENDING, skip_reason=""
        )
    return written
