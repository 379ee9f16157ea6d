"""The reminder sweep: claims, re-checks the visit, renders allow-listed facts, hands texts to messaging once."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, time, timedelta

import pytest
from django.utils import timezone

from careline.messaging.models import Message, MessageState, SuppressionReason
from careline.patients.models import ConsentEvent
from careline.scheduling.models import AppointmentStatus, Reminder, ReminderState
from careline.scheduling.prompts import (
    PromptKind,
    prompt_appointment_id,
    scheduling_prompts,
)
from careline.scheduling.services.reminders import (
    SENDING_TIMEOUT,
    reminders_claim,
    reminders_plan_for_appointment,
    reminders_send,
    reminders_sweep,
)
from careline.scheduling.tests.reminders_support import (
    _no_default_rules,
    days_rule,
    make_appointment,
    make_type,
)

NOW = datetime(2025, 2, 3, 16, 0, tzinfo=UTC)  # Mon 10:00 in Chicago
VISIT = datetime(2025, 2, 6, 14, 30, tzinfo=UTC)  # Thu 08:30 in Chicago


pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures(_no_default_rules.__name__),
    pytest.mark.clock(NOW),
]


@pytest.fixture
def planned(personas, clock):
    """Pat's Thursday 08:30 visit with a reminder the day before at 18:00, then the clock at its due time."""
    days_rule(1, time(18, 0))
    appointment = make_appointment(personas, VISIT)
    [reminder] = reminders_plan_for_appointment(appointment)
    clock.move_to(reminder.due_at + timedelta(seconds=1), tick=False)
    return appointment, reminder


def test_sweep_sends_a_due_reminder_with_location_time_link_and_reply_words(planned):
    appointment, reminder = planned
    assert reminders_sweep() == {"claimed": 1, "batches": 1}
    reminder.refresh_from_db()
    assert reminder.state == ReminderState.SENT
    message = reminder.message
    assert message.idempotency_key == f"reminder:{reminder.pk}"
    assert message.purpose == "appointments" and message.kind == "automated"
    assert "Hi Pat" in message.body and "Northside Clinic" in message.body
    assert appointment.location.address_line1 in message.body
    assert "Thu, Feb 6" in message.body and "8:30 AM" in message.body
    assert "/schedule/ics/" in message.body and ".ics" in message.body
    assert message.body.count("Reply C to confirm, R to reschedule or X to cancel.") == 1
    assert "Follow-up" not in message.body  # the type's name is not safe to text
    prompt = scheduling_prompts().get(message=message)
    assert prompt.kind == PromptKind.REMINDER and prompt_appointment_id(prompt) == appointment.pk
    assert prompt.expires_at == appointment.starts_at and prompt.phone_number == "+13125550111"


def test_a_type_marked_safe_to_text_may_be_named(personas, clock):
    kind = make_type("Flu shot", name_safe_to_text=True)
    days_rule(1, time(18, 0), template_en="{visit_type} at {location_name} on {date}.")
    appointment = make_appointment(personas, VISIT, appointment_type=kind)
    [reminder] = reminders_plan_for_appointment(appointment)
    clock.move_to(reminder.due_at, tick=False)
    reminders_sweep()
    reminder.refresh_from_db()
    assert reminder.message.body.startswith("Flu shot at Northside Clinic on Thu, Feb 6.")


def test_spanish_patients_get_the_spanish_template(personas, clock):
    quinn = personas.quinn
    quinn.primary_location = personas.location_a
    quinn.save()
    days_rule(1, time(18, 0))
    appointment = make_appointment(personas, VISIT, patient=quinn)
    [reminder] = reminders_plan_for_appointment(appointment)
    clock.move_to(reminder.due_at, tick=False)
    reminders_sweep()
    reminder.refresh_from_db()
    body = reminder.message.body
    assert body.startswith("Hola Quinn") and "jue 6 feb" in body and "8:30" in body
    assert body.endswith("Responda C para confirmar, R para cambiar la cita o X para cancelarla.")
    # Quinn has no consent on file: the row is made but suppressed, and no reply is awaited.
    assert reminder.message.state == MessageState.SUPPRESSED
    assert reminder.message.suppression_reason == SuppressionReason.NO_CONSENT
    assert not scheduling_prompts().exists()


def test_a_patient_elsewhere_is_told_the_clinics_clock(personas, clock):
    pat = personas.pat
    pat.time_zone = "America/New_York"
    pat.save()
    days_rule(1, time(18, 0))
    appointment = make_appointment(personas, VISIT)
    [reminder] = reminders_plan_for_appointment(appointment)
    clock.move_to(reminder.due_at, tick=False)
    reminders_sweep()
    reminder.refresh_from_db()
    assert "8:30 AM CST" in reminder.message.body


def test_nothing_is_claimed_before_the_due_time(personas, clock):
    days_rule(1, time(18, 0))
    reminders_plan_for_appointment(make_appointment(personas, VISIT))
    assert reminders_sweep()["claimed"] == 0
    assert not Message.objects.exists()


def test_a_visit_moved_after_its_reminder_was_claimed_never_gets_the_old_text(planned):
    appointment, reminder = planned
    [ids] = reminders_claim()  # queued for sending, the task not yet run
    appointment.starts_at += timedelta(days=1)
    appointment.ends_at += timedelta(days=1)
    appointment.save()
    reminders_plan_for_appointment(appointment)
    assert reminders_send(reminder_ids=ids) == {"sent": 0, "withdrawn": 1, "skipped": 0}
    reminder.refresh_from_db()
    assert reminder.state == ReminderState.WITHDRAWN and reminder.message is None
    assert not Message.objects.exists()


def test_a_rescheduled_visit_old_row_never_sends(planned, personas):
    appointment, reminder = planned
    # S1's move: the old row becomes RESCHEDULED and a new row is booked.
    appointment.status = AppointmentStatus.RESCHEDULED
    appointment.save()
    reminders_sweep()
    reminder.refresh_from_db()
    assert reminder.state == ReminderState.WITHDRAWN and not Message.objects.exists()


def test_a_cancelled_visit_sends_nothing(planned):
    appointment, _reminder = planned
    appointment.status = AppointmentStatus.CANCELLED_PATIENT
    appointment.save()
    from careline.scheduling.services.reminders import reminders_withdraw_for_appointment

    reminders_withdraw_for_appointment(appointment, reason="cancelled")
    assert reminders_sweep()["claimed"] == 0
    assert not Message.objects.exists()


def test_a_batch_delivered_twice_makes_one_message(planned):
    _appointment, reminder = planned
    [ids] = reminders_claim()
    reminders_send(reminder_ids=ids)
    reminders_send(reminder_ids=ids)
    # Even a row put back by recovery makes no second message (the idempotency key).
    Reminder.objects.filter(pk=reminder.pk).update(state=ReminderState.SENDING)
    reminders_send(reminder_ids=ids)
    assert Message.objects.count() == 1 and scheduling_prompts().count() == 1


def test_rows_whose_task_was_lost_are_claimed_again(planned, clock):
    _appointment, reminder = planned
    reminders_claim()  # claimed, then the task is lost
    assert reminders_sweep()["claimed"] == 0
    clock.shift(SENDING_TIMEOUT + timedelta(seconds=1))
    assert reminders_sweep()["claimed"] == 1
    reminder.refresh_from_db()
    assert reminder.state == ReminderState.SENT


def test_sweep_sends_many_with_bounded_queries(personas, clock, django_assert_max_num_queries):
    days_rule(1, time(18, 0))
    for i in range(20):
        reminders_plan_for_appointment(make_appointment(personas, VISIT + timedelta(minutes=30 * i)))
    clock.move_to(datetime(2025, 2, 6, 0, 1, tzinfo=UTC), tick=False)
    with django_assert_max_num_queries(20 * 20 + 10):
        assert reminders_sweep()["claimed"] == 20
    assert Reminder.objects.filter(state=ReminderState.SENT).count() == 20


@pytest.mark.parametrize("word", ["STOP", "CANCEL", "END", "YES", "START", "HELP"])
def test_compliance_keywords_are_refused_as_reply_words_at_start_up(word):
    result = subprocess.run(
        [sys.executable, "-c", "import careline.settings"],
        env={"CARELINE_REPLY_CANCEL": word, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert f"CARELINE_REPLY_CANCEL: {word} is a compliance keyword" in result.stderr


def test_consent_given_later_is_honoured_at_send_time(personas, clock):
    quinn = personas.quinn
    quinn.primary_location = personas.location_a
    quinn.save()
    days_rule(1, time(18, 0))
    [reminder] = reminders_plan_for_appointment(make_appointment(personas, VISIT, patient=quinn))
    ConsentEvent.objects.create(
        phone_number="+14155550122", kind="given", method="form", patient=quinn, occurred_at=timezone.now()
    )
    clock.move_to(reminder.due_at, tick=False)
    reminders_sweep()
    reminder.refresh_from_db()
    assert reminder.message.state == MessageState.QUEUED
