"""Reminder planning: due times on the patient's calendar (DST, other zones), quiet hours, stale and moved visits."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from careline.messaging.models import MessagingPolicy
from careline.patients.models import ContactPreference, Purpose
from careline.scheduling.models import AppointmentStatus, Reminder, ReminderState
from careline.scheduling.services.reminders import (
    SKIP_AFTER_START,
    SKIP_PASSED,
    reminders_plan_bulk,
    reminders_plan_for_appointment,
    reminders_withdraw_for_appointment,
)
from careline.scheduling.tests.reminders_support import (
    _no_default_rules,
    days_rule,
    make_appointment,
    make_type,
    minutes_rule,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures(_no_default_rules.__name__),
    pytest.mark.clock(datetime(2025, 2, 1, 18, 0, tzinfo=UTC)),
]


def _pending(appointment):
    return list(Reminder.objects.filter(appointment=appointment, state=ReminderState.PENDING))


def test_days_before_rule_is_local_time_across_spring_forward(personas, clock):
    # Chicago springs forward on Sun 2025-03-09. Visit Tue 03-11 10:00 CDT; 2 days before at 18:00 is
    # Sunday 18:00 CDT = 23:00 UTC (48 hours before in UTC would be 16:00 UTC = 11:00 CDT).
    days_rule(2, time(18, 0))
    appointment = make_appointment(personas, datetime(2025, 3, 11, 15, 0, tzinfo=UTC))
    [reminder] = reminders_plan_for_appointment(appointment)
    assert reminder.due_at == datetime(2025, 3, 9, 23, 0, tzinfo=UTC)
    assert reminder.state == ReminderState.PENDING and not reminder.held_for_quiet_hours


def test_days_before_rule_is_local_time_across_fall_back(personas, clock):
    # Chicago falls back on Sun 2025-11-02. Visit Mon 11-03 09:00 CST (15:00 UTC); 2 days before at 18:00
    # is Sat 11-01 18:00 CDT = 23:00 UTC.
    days_rule(2, time(18, 0))
    appointment = make_appointment(personas, datetime(2025, 11, 3, 15, 0, tzinfo=UTC))
    [reminder] = reminders_plan_for_appointment(appointment)
    assert reminder.due_at == datetime(2025, 11, 1, 23, 0, tzinfo=UTC)


def test_minutes_before_in_quiet_hours_moves_to_the_evening_before_across_fall_back(personas, clock):
    # Visit Sun 2025-11-02 09:00 CST (15:00 UTC); 2 hours before is 07:00 CST, before the 08:00 window:
    # it goes at 19:59 the evening before, which is still CDT: 00:59 UTC on 11-02.
    minutes_rule(120)
    appointment = make_appointment(personas, datetime(2025, 11, 2, 15, 0, tzinfo=UTC))
    [reminder] = reminders_plan_for_appointment(appointment)
    assert reminder.due_at == datetime(2025, 11, 2, 0, 59, tzinfo=UTC)
    assert reminder.held_for_quiet_hours


def test_two_hours_before_an_0830_visit_goes_the_evening_before(personas, clock):
    minutes_rule(120)
    # Wed 2025-02-05 08:30 CST = 14:30 UTC; 06:30 is in quiet hours -> Tue 19:59 CST = Wed 01:59 UTC.
    appointment = make_appointment(personas, datetime(2025, 2, 5, 14, 30, tzinfo=UTC))
    [reminder] = reminders_plan_for_appointment(appointment)
    assert reminder.due_at == datetime(2025, 2, 5, 1, 59, tzinfo=UTC)
    assert reminder.due_at < appointment.starts_at


def test_quiet_hours_follow_the_locations_policy(personas, clock):
    MessagingPolicy.objects.create(
        location=personas.location_a, window_start=time(9, 0), window_end=time(17, 0)
    )
    days_rule(1, time(18, 0))
    appointment = make_appointment(personas, datetime(2025, 2, 5, 16, 0, tzinfo=UTC))
    [reminder] = reminders_plan_for_appointment(appointment)
    # 18:00 is after the 17:00 close: 16:59 CST the day before.
    assert reminder.due_at == datetime(2025, 2, 4, 22, 59, tzinfo=UTC)


def test_due_time_uses_the_patients_zone_not_the_clinics(personas, clock):
    pat = personas.pat
    pat.time_zone = "America/New_York"
    pat.save()
    days_rule(1, time(18, 0))
    appointment = make_appointment(personas, datetime(2025, 2, 5, 16, 0, tzinfo=UTC))
    [reminder] = reminders_plan_for_appointment(appointment)
    # 18:00 in New York (EST) = 23:00 UTC, an hour before 18:00 in Chicago.
    assert reminder.due_at == datetime(2025, 2, 4, 23, 0, tzinfo=UTC)


def test_booking_after_a_reminders_time_records_it_skipped_and_plans_no_stale_text(personas, clock):
    days_rule(3, time(10, 0))
    minutes_rule(120)
    appointment = make_appointment(personas, datetime(2025, 2, 2, 18, 0, tzinfo=UTC))  # tomorrow noon
    reminders = {r.rule.minutes_before is not None: r for r in reminders_plan_for_appointment(appointment)}
    assert reminders[False].state == ReminderState.SKIPPED and reminders[False].skip_reason == SKIP_PASSED
    assert reminders[True].state == ReminderState.PENDING


def test_a_local_time_after_the_visit_is_skipped(personas, clock):
    days_rule(0, time(18, 0))
    appointment = make_appointment(personas, datetime(2025, 2, 5, 16, 0, tzinfo=UTC))
    [reminder] = reminders_plan_for_appointment(appointment)
    assert reminder.state == ReminderState.SKIPPED and reminder.skip_reason == SKIP_AFTER_START


def test_planning_twice_creates_nothing_new(personas, clock):
    days_rule(2, time(18, 0))
    minutes_rule(120)
    appointment = make_appointment(personas, datetime(2025, 2, 10, 16, 0, tzinfo=UTC))
    reminders_plan_for_appointment(appointment)
    reminders_plan_for_appointment(appointment)
    assert Reminder.objects.filter(appointment=appointment).count() == 2


def test_rules_filter_by_type_and_location_and_types_can_opt_out(personas, clock):
    scan = make_type("Scan")
    quiet = make_type("Counselling", reminders_apply=False)
    days_rule(1, time(10, 0)).appointment_types.set([scan])
    elsewhere = days_rule(2, time(10, 0))
    elsewhere.locations.set([personas.location_b])
    for_all = days_rule(3, time(10, 0))
    at = datetime(2025, 2, 10, 16, 0, tzinfo=UTC)
    scanned = make_appointment(personas, at, appointment_type=scan)
    counselled = make_appointment(personas, at + timedelta(hours=2), appointment_type=quiet)
    assert {r.rule.days_before for r in reminders_plan_for_appointment(scanned)} == {1, 3}
    assert reminders_plan_for_appointment(counselled) == []
    assert for_all.reminders.count() == 1


def test_channel_follows_preference_or_both(personas, clock):
    from django.utils import timezone

    ContactPreference.objects.create(
        patient=personas.pat, purpose=Purpose.APPOINTMENTS, channel="email", recorded_at=timezone.now()
    )
    days_rule(1, time(10, 0), channel="preference")
    days_rule(2, time(10, 0), channel="both")
    appointment = make_appointment(personas, datetime(2025, 2, 10, 16, 0, tzinfo=UTC))
    channels = sorted((r.rule.days_before, r.channel) for r in reminders_plan_for_appointment(appointment))
    assert channels == [(1, "email"), (2, "email"), (2, "sms")]


def test_moving_in_place_withdraws_the_old_time_and_plans_the_new(personas, clock):
    days_rule(1, time(10, 0))
    appointment = make_appointment(personas, datetime(2025, 2, 10, 16, 0, tzinfo=UTC))
    [old] = reminders_plan_for_appointment(appointment)
    appointment.starts_at += timedelta(days=2)
    appointment.ends_at += timedelta(days=2)
    appointment.save()
    [new] = reminders_plan_for_appointment(appointment)
    old.refresh_from_db()
    assert old.state == ReminderState.WITHDRAWN
    assert new.state == ReminderState.PENDING and new.due_at == old.due_at + timedelta(days=2)
    # ... and back again: the old row for that time is pending once more (the unique plan holds).
    appointment.starts_at -= timedelta(days=2)
    appointment.save()
    reminders_plan_for_appointment(appointment)
    old.refresh_from_db()
    assert old.state == ReminderState.PENDING and len(_pending(appointment)) == 1


def test_cancel_withdraws_every_pending_reminder(personas, clock):
    days_rule(1, time(10, 0))
    minutes_rule(120)
    appointment = make_appointment(personas, datetime(2025, 2, 10, 16, 0, tzinfo=UTC))
    reminders_plan_for_appointment(appointment)
    appointment.status = AppointmentStatus.CANCELLED_CLINIC
    appointment.save()
    assert reminders_withdraw_for_appointment(appointment, reason="Cancelled by the clinic") == 2
    assert _pending(appointment) == []
    # Planning a cancelled visit plans nothing.
    assert [r for r in reminders_plan_for_appointment(appointment) if r.state == ReminderState.PENDING] == []


def test_bulk_planning_uses_a_bounded_number_of_queries(personas, clock, django_assert_max_num_queries):
    days_rule(2, time(18, 0))
    minutes_rule(120)
    ids = [
        make_appointment(personas, datetime(2025, 2, 10, 15, 0, tzinfo=UTC) + timedelta(hours=i)).pk
        for i in range(30)
    ]
    with django_assert_max_num_queries(12):
        assert reminders_plan_bulk(appointment_ids=ids) == 60
