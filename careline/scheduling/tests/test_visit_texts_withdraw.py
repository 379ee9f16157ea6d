"""Only a visit's current state is texted: held or queued texts about it go when it moves or is cancelled."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from careline.core.actor import Actor
from careline.messaging.models import Message, MessageState, PromptState
from careline.messaging.outbound import queue
from careline.messaging.outbound.dispatch import messages_dispatch
from careline.messaging.outbound.sweep import messages_sweep
from careline.scheduling.models import (
    Appointment,
    Reminder,
    ReminderRule,
    ReminderState,
)
from careline.scheduling.prompts import (
    scheduling_prompts,
)
from careline.scheduling.queries.reminders import appointment_reminder_rows
from careline.scheduling.services.appointments import appointment_book, appointment_cancel, appointment_move
from careline.scheduling.services.reminders import appointment_notify, reminders_claim, reminders_send
from careline.scheduling.tests.appointment_support import Schedule
from careline.scheduling.tests.replies_support import MONDAY, PAT_NUMBER, chicago, setup
from careline.scheduling.texts import default_template
from careline.testing.personas import Personas

FRIDAY = date(2031, 1, 3)
SATURDAY = date(2031, 1, 4)
EVENING = chicago(FRIDAY, 21)  # quiet hours: automated texts wait for 08:00
MORNING = chicago(SATURDAY, 8)


pytestmark = [pytest.mark.clock(EVENING)]


@pytest.fixture
def enqueued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    ids: list[int] = []
    monkeypatch.setattr(queue, "messages_enqueue", lambda batch: ids.extend(batch))
    return ids


@pytest.fixture
def schedule(personas: Personas, clock: Any) -> Schedule:
    return setup(personas)


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Any:
    """Run a service and then its after-commit callbacks (the texts), as a real request would."""

    def run(service: Any, **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return service(**kwargs)

    return run


def _book(schedule: Schedule, committed: Any, hour: int = 9) -> Appointment:
    p = schedule.personas
    appointment: Appointment = committed(
        appointment_book, patient=p.pat, clinician=p.clinician_a, location=p.location_a,
        appointment_type=schedule.checkup, starts_at=chicago(MONDAY, hour), actor=Actor.staff(p.front_a), source="staff",
    )  # fmt: skip
    return appointment


def _move(committed: Any, appointment: Appointment, hour: int, personas: Personas) -> Appointment:
    new: Appointment = committed(
        appointment_move, appointment=appointment, starts_at=chicago(MONDAY, hour), actor=Actor.staff(personas.front_a),
        source="staff",
    )  # fmt: skip
    return new


def _morning_sends(clock: Any, enqueued: list[int]) -> list[str]:
    """At 08:00 the sweep releases what quiet hours held; the bodies that actually went out."""
    clock.move_to(MORNING)
    messages_sweep()
    messages_dispatch(list(enqueued))
    return list(
        Message.objects.filter(to_address=PAT_NUMBER, state=MessageState.SENT)
        .order_by("id")
        .values_list("body", flat=True)
    )


def test_a_held_confirmation_is_withdrawn_when_the_visit_moves(
    schedule: Schedule, committed: Any, clock: Any, enqueued: list[int], personas: Personas
) -> None:
    visit = _book(schedule, committed)
    confirmation = Message.objects.get(idempotency_key=f"notify:booked:{visit.pk}")
    assert confirmation.held_for_quiet_hours and confirmation.state == MessageState.QUEUED
    _move(committed, visit, 11, personas)
    sent = _morning_sends(clock, enqueued)
    assert len(sent) == 1 and "has moved to Mon, Jan 6 at 11:00 AM" in sent[0]
    confirmation.refresh_from_db()
    assert confirmation.state == MessageState.CANCELLED
    assert confirmation.error_message == "Withdrawn: the visit moved"


def test_a_held_confirmation_and_move_notice_are_withdrawn_when_the_visit_is_then_cancelled(
    schedule: Schedule, committed: Any, clock: Any, enqueued: list[int], personas: Personas
) -> None:
    visit = _book(schedule, committed)
    moved = _move(committed, visit, 11, personas)
    committed(
        appointment_cancel,
        appointment=moved,
        actor=Actor.staff(personas.front_a),
        source="staff",
        by_patient=False,
    )
    sent = _morning_sends(clock, enqueued)
    assert len(sent) == 1 and "has been cancelled by the clinic" in sent[0]
    assert set(
        Message.objects.filter(state=MessageState.CANCELLED).values_list("idempotency_key", flat=True)
    ) == {f"notify:booked:{visit.pk}", f"notify:moved:{moved.pk}"}


def test_a_move_notice_is_superseded_by_a_second_move(
    schedule: Schedule, committed: Any, clock: Any, enqueued: list[int], personas: Personas
) -> None:
    visit = _book(schedule, committed)
    first = _move(committed, visit, 11, personas)
    second = _move(committed, first, 14, personas)
    sent = _morning_sends(clock, enqueued)
    assert len(sent) == 1 and "has moved to Mon, Jan 6 at 2:00 PM" in sent[0]
    assert Message.objects.get(idempotency_key=f"notify:moved:{first.pk}").state == MessageState.CANCELLED
    assert Message.objects.get(idempotency_key=f"notify:moved:{second.pk}").state == MessageState.SENT


def test_a_reminder_held_by_quiet_hours_is_withdrawn_with_its_question_when_the_visit_moves(
    schedule: Schedule, committed: Any, clock: Any, enqueued: list[int], personas: Personas
) -> None:
    ReminderRule.objects.all().delete()
    ReminderRule.objects.create(
        name="Three days", minutes_before=3 * 24 * 60, template_en=default_template("en")
    )
    visit = _book(schedule, committed, hour=10)  # due Friday 10:00: already late, the sweep runs at 21:00
    Reminder.objects.filter(appointment=visit).update(state=ReminderState.PENDING, due_at=EVENING)
    batches = reminders_claim(now=EVENING)
    reminders_send(reminder_ids=batches[0])
    reminder = Reminder.objects.get(appointment=visit)
    assert reminder.message is not None and reminder.message.held_for_quiet_hours
    _move(committed, visit, 11, personas)
    reminder.refresh_from_db()
    assert reminder.state == ReminderState.WITHDRAWN
    assert reminder.message is not None and reminder.message.state == MessageState.CANCELLED
    assert scheduling_prompts().get(message=reminder.message).state == PromptState.SUPERSEDED
    row = appointment_reminder_rows(visit)[0]
    assert (row.delivery, row.why) == ("Cancelled", "Withdrawn: the visit moved")
    sent = _morning_sends(clock, enqueued)
    assert all("10:00 AM" not in body for body in sent)


def test_the_dispatcher_rechecks_the_visit_just_before_sending(
    schedule: Schedule, committed: Any, clock: Any, enqueued: list[int], personas: Personas
) -> None:
    clock.move_to(chicago(FRIDAY, 10))  # inside the texting window
    visit = _book(schedule, committed)
    moved = _move(committed, visit, 11, personas)
    enqueued.clear()
    # A confirmation written after the move committed (an after-commit text racing the move).
    Message.objects.filter(idempotency_key=f"notify:booked:{visit.pk}").delete()
    appointment_notify(visit, event="booked")
    late = Message.objects.get(idempotency_key=f"notify:booked:{visit.pk}")
    current = Message.objects.get(idempotency_key=f"notify:moved:{moved.pk}")
    Message.objects.filter(pk=current.pk).update(state=MessageState.QUEUED)
    results = messages_dispatch([late.pk, current.pk])
    assert results == {late.pk: MessageState.CANCELLED, current.pk: MessageState.SENT}
    late.refresh_from_db()
    assert late.error_message == "Withdrawn: the visit moved"


def test_a_text_about_a_visit_that_started_is_not_sent(
    schedule: Schedule, committed: Any, clock: Any, personas: Personas
) -> None:
    clock.move_to(chicago(FRIDAY, 10))
    visit = _book(schedule, committed)
    message = Message.objects.get(idempotency_key=f"notify:booked:{visit.pk}")
    Message.objects.filter(pk=message.pk).update(state=MessageState.QUEUED)
    clock.move_to(visit.starts_at + timedelta(minutes=1))
    assert messages_dispatch([message.pk]) == {message.pk: MessageState.CANCELLED}


def test_a_visit_cancelled_by_an_import_has_its_waiting_texts_withdrawn(
    schedule: Schedule, committed: Any, clock: Any, personas: Personas
) -> None:
    from careline.scheduling.services.imports import appointment_import

    header = "external_id,mrn,clinician_email,location,appointment_type,date,time,status\n"
    row = "PM-7,MRN-PAT-1,nurse.a@example.test,Northside Clinic,Checkup,2031-01-06,09:00,{}\n"
    result = appointment_import(
        data=(header + row.format("booked")).encode(), actor=Actor.staff(personas.admin)
    )
    assert result.created == 1, result.errors
    visit = Appointment.objects.get(external_id="PM-7")
    appointment_notify(visit, event="booked")  # held overnight by quiet hours
    held = Message.objects.get(idempotency_key=f"notify:booked:{visit.pk}")
    assert held.held_for_quiet_hours
    result = appointment_import(
        data=(header + row.format("cancelled_patient")).encode(), actor=Actor.staff(personas.admin)
    )
    assert result.updated == 1, result.errors
    held.refresh_from_db()
    assert (held.state, held.error_message) == (MessageState.CANCELLED, "Withdrawn: the visit was cancelled")
