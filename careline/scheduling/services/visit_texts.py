"""Texts about a visit tell only its current state: queued ones are withdrawn when it moves or is cancelled.

Every text scheduling writes about a visit (booking confirmation, clinic notices, reminders) carries the
subject key "appointment:<id>". A move books a new row, so the old row's texts are all about a time that
no longer holds: `appointment_texts_withdraw` cancels those still waiting (held overnight by quiet hours,
scheduled, retrying) in the same transaction as the change. `appointment_texts_stale` is registered with
messaging and asked just before sending, for a text claimed by a worker while the change committed or
written just after it (a confirmation sent after commit racing a move).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils import timezone

from careline.messaging.models import Message
from careline.messaging.outbound.compose import messages_withdraw_for_subject
from careline.scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    Reminder,
    ReminderState,
)
from careline.scheduling.subjects import appointment_subject

CANCELLED_NOTICE_KEY = (
    "notify:cancelled:"  # the clinic's cancellation notice: true once the visit is cancelled
)
WITHDRAWN_MOVED = "Withdrawn: the visit moved"
WITHDRAWN_CANCELLED = "Withdrawn: the visit was cancelled"
WITHDRAWN_STARTED = "Withdrawn: the visit has started"


def appointment_texts_withdraw(appointment: Appointment, *, reason: str) -> int:
    """Withdraw every text about APPOINTMENT not sent yet; its reminders and questions follow. Returns how many."""
    ids = messages_withdraw_for_subject(subject_key=appointment_subject(appointment.pk), reason=reason)
    if ids:
        # A reminder handed to messaging but held for quiet hours never went: record it as withdrawn.
        Reminder.objects.filter(message_id__in=ids, state=ReminderState.SENT).update(
            state=ReminderState.WITHDRAWN, skip_reason=reason[:200]
        )
        from careline.messaging.models import PromptState
        from careline.scheduling.prompts import scheduling_prompts

        scheduling_prompts().filter(message_id__in=ids, state=PromptState.OPEN).update(
            state=PromptState.SUPERSEDED
        )
    return len(ids)


def _reason_if_stale(message: Message, visit: Appointment | None, planned_for: object) -> str:
    if visit is None:
        return "Withdrawn: the visit no longer exists"
    if (message.idempotency_key or "").startswith(CANCELLED_NOTICE_KEY):
        return (
            ""
            if visit.status == AppointmentStatus.CANCELLED_CLINIC
            else "Withdrawn: the visit is not cancelled"
        )
    if visit.status == AppointmentStatus.RESCHEDULED:
        return WITHDRAWN_MOVED
    if visit.status not in ACTIVE_STATUSES:
        return WITHDRAWN_CANCELLED
    if visit.starts_at <= timezone.now():
        return WITHDRAWN_STARTED
    if planned_for is not None and planned_for != visit.starts_at:
        return WITHDRAWN_MOVED
    return ""


def appointment_texts_stale(messages: Sequence[Message]) -> dict[int, str]:
    """{message id: reason} for texts about visits whose state changed since they were written (2 queries)."""
    visit_ids: dict[int, int] = {}
    for message in messages:
        _, _, raw = message.subject_key.partition(":")
        if raw.isdecimal():
            visit_ids[message.pk] = int(raw)
    if not visit_ids:
        return {}
    visits = Appointment.objects.only("status", "starts_at").in_bulk(set(visit_ids.values()))
    planned = dict(
        Reminder.objects.filter(message_id__in=list(visit_ids)).values_list(
            "message_id", "appointment_starts_at"
        )
    )
    stale: dict[int, str] = {}
    for message in messages:
        if message.pk not in visit_ids:
            continue
        reason = _reason_if_stale(message, visits.get(visit_ids[message.pk]), planned.get(message.pk))
        if reason:
            stale[message.pk] = reason
    return stale
