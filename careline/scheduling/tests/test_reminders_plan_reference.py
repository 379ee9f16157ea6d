"""The set-based planner writes exactly the rows the instance-per-row planner (the reference) wrote.

Each case runs both planners from the same database state (a savepoint rolled back between them) and
compares every reminder column but the id and creation time: DST changes both ways, quiet hours (clinic-wide
and per location), past-due and after-start skips, visits in other zones and patients in their own zone and
language, channel preferences, re-planning after a move, a cancellation and a preference change, and random
appointment sets (hypothesis).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from careline.messaging.models import MessagingPolicy
from careline.patients.models import ContactPreference, Patient, PatientPhone, PhoneKind, Purpose
from careline.scheduling.models import Appointment, AppointmentStatus, Reminder, ReminderChannel
from careline.scheduling.services.reminders import reminders_plan_bulk
from careline.scheduling.tests.reminder_plan_reference import reminders_plan_bulk_reference
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

NOW = datetime(2025, 2, 1, 18, 0, tzinfo=UTC)
COLUMNS = (
    "appointment_id",
    "rule_id",
    "channel",
    "appointment_starts_at",
    "due_at",
    "state",
    "skip_reason",
    "held_for_quiet_hours",
    "message_id",
    "claimed_at",
    "sent_at",
)


def _rows() -> list[tuple[Any, ...]]:
    return sorted(Reminder.objects.values_list(*COLUMNS), key=repr)


def _both(planner_input: Callable[[], list[int]], now: datetime = NOW) -> tuple[list[Any], list[Any]]:
    """(reference rows, set-based rows), each planner run from the same state on the ids PLANNER_INPUT gives."""
    ids = planner_input()
    with transaction.atomic():
        before = transaction.savepoint()
        reminders_plan_bulk_reference(appointment_ids=ids, now=now)
        reference = _rows()
        transaction.savepoint_rollback(before)
    assert reminders_plan_bulk(appointment_ids=ids, now=now) >= 0
    return reference, _rows()


def _default_rules() -> None:
    days_rule(2, time(10, 0))
    minutes_rule(120)


def _patient(personas: Any, n: int, *, zone: str = "", language: str = "en", location: Any = None) -> Patient:
    patient = Patient.objects.create(
        mrn=f"REF{n:05d}",
        legal_first_name="Rosa",
        legal_last_name=f"Reference{n}",
        date_of_birth=datetime(1970, 1, 1).date(),
        primary_location=location or personas.location_a,
        time_zone=zone,
        language=language,
    )
    PatientPhone.objects.create(
        patient=patient, number=f"+1612555{n:04d}", kind=PhoneKind.MOBILE, is_primary=True
    )
    return patient


def test_same_rows_across_spring_forward_and_fall_back(personas, clock):
    _default_rules()
    days_rule(1, time(18, 0))
    starts = [
        datetime(2025, 3, 11, 15, 0, tzinfo=UTC),  # two days after Chicago springs forward
        datetime(2025, 3, 9, 8, 30, tzinfo=UTC),  # 02:30 local does not exist that night: 2 hours before
        datetime(2025, 11, 3, 15, 0, tzinfo=UTC),  # after the fall back
        datetime(2025, 11, 2, 7, 30, tzinfo=UTC),  # 01:30 CDT, the hour that repeats
        datetime(2025, 11, 2, 8, 30, tzinfo=UTC),  # 02:30 CST
    ]
    reference, rows = _both(lambda: [make_appointment(personas, at).pk for at in starts])
    assert len(reference) == 3 * len(starts)
    assert rows == reference


def test_same_rows_for_quiet_hours_clinic_wide_and_per_location(personas, clock):
    _default_rules()
    days_rule(1, time(21, 30))  # after the window closes: moved earlier
    minutes_rule(30)
    MessagingPolicy.objects.create(
        location=personas.location_b, window_start=time(9, 0), window_end=time(17, 0)
    )
    starts = [
        datetime(2025, 2, 5, 14, 30, tzinfo=UTC),
        datetime(2025, 2, 5, 13, 0, tzinfo=UTC),  # 07:00 Chicago, 2 hours before is 05:00: the evening before
        datetime(2025, 2, 6, 2, 0, tzinfo=UTC),
        datetime(2025, 2, 7, 17, 5, tzinfo=UTC),
    ]

    def make() -> list[int]:
        ids = [make_appointment(personas, at).pk for at in starts]
        ids += [
            make_appointment(personas, at, patient=personas.quinn, location=personas.location_b).pk
            for at in starts
        ]
        return ids

    reference, rows = _both(make)
    assert any(row[7] for row in reference)  # some were moved out of quiet hours
    assert rows == reference


def test_same_rows_for_past_due_and_after_start_skips(personas, clock):
    days_rule(3, time(10, 0))
    minutes_rule(120)
    minutes_rule(5)
    starts = [
        NOW + timedelta(hours=1),  # 2 hours before has passed
        NOW + timedelta(days=1),  # 3 days before has passed
        NOW - timedelta(hours=3),  # a visit in the past
        datetime(
            2025, 2, 2, 13, 2, tzinfo=UTC
        ),  # 07:02 local: 5 minutes before is in quiet hours, the evening
    ]
    reference, rows = _both(lambda: [make_appointment(personas, at).pk for at in starts])
    assert {row[5] for row in reference} >= {"skipped", "pending"}
    assert rows == reference


def test_same_rows_for_patients_in_their_own_zone_language_and_channel(personas, clock):
    _default_rules()
    email_rule = days_rule(1, time(9, 0), channel=ReminderChannel.BOTH)
    preference_rule = minutes_rule(60 * 24, channel=ReminderChannel.PREFERENCE)
    assert email_rule.pk and preference_rule.pk
    zones = [
        "",
        "America/New_York",
        "Asia/Kolkata",
        "Australia/Lord_Howe",
        "Pacific/Chatham",
        "Europe/London",
    ]
    patients = [
        _patient(
            personas,
            n,
            zone=zone,
            language=("es" if n % 2 else "en"),
            location=(personas.location_b if n % 3 else None),
        )
        for n, zone in enumerate(zones)
    ]
    ContactPreference.objects.create(
        patient=patients[1], purpose=Purpose.APPOINTMENTS, channel="email", recorded_at=NOW
    )
    starts = datetime(
        2025, 3, 30, 0, 30, tzinfo=UTC
    )  # Europe springs forward, Lord Howe changes half an hour

    def make() -> list[int]:
        return [
            make_appointment(
                personas, starts + timedelta(hours=7 * n), patient=p, location=p.primary_location
            ).pk
            for n, p in enumerate(patients)
        ]

    reference, rows = _both(make)
    assert {row[2] for row in reference} == {"sms", "email"}
    assert rows == reference


def test_same_rows_for_inactive_visits_and_types_without_reminders(personas, clock):
    _default_rules()
    scoped = days_rule(4, time(12, 0))
    scoped.locations.set([personas.location_b])
    no_reminders = make_type("Phone call", reminders_apply=False)
    at = datetime(2025, 2, 10, 16, 0, tzinfo=UTC)

    def make() -> list[int]:
        return [
            make_appointment(personas, at).pk,
            make_appointment(personas, at, status=AppointmentStatus.CANCELLED_CLINIC).pk,
            make_appointment(personas, at, appointment_type=no_reminders).pk,
            make_appointment(personas, at, patient=personas.quinn, location=personas.location_b).pk,
        ]

    reference, rows = _both(make)
    assert rows == reference


def test_same_rows_when_replanning_after_a_move_a_cancellation_and_a_preference_change(personas, clock):
    _default_rules()
    at = datetime(2025, 2, 10, 16, 0, tzinfo=UTC)
    moved = make_appointment(personas, at)
    cancelled = make_appointment(personas, at + timedelta(days=1))
    switched = make_appointment(personas, at, patient=personas.quinn, location=personas.location_b)
    back = make_appointment(personas, at + timedelta(days=2))
    ids = [moved.pk, cancelled.pk, switched.pk, back.pk]
    reminders_plan_bulk_reference(appointment_ids=ids, now=NOW)
    Appointment.objects.filter(pk=moved.pk).update(starts_at=at + timedelta(hours=3))
    Appointment.objects.filter(pk=cancelled.pk).update(status=AppointmentStatus.CANCELLED_CLINIC)
    ContactPreference.objects.create(
        patient=personas.quinn, purpose=Purpose.APPOINTMENTS, channel="email", recorded_at=NOW
    )
    Appointment.objects.filter(pk=back.pk).update(starts_at=at + timedelta(days=3))
    reminders_plan_bulk_reference(appointment_ids=ids, now=NOW)
    Appointment.objects.filter(pk=back.pk).update(starts_at=at + timedelta(days=2))  # and back again

    reference, rows = _both(lambda: ids)
    assert rows == reference


ZONES = st.sampled_from(["", "America/Chicago", "America/New_York", "America/Los_Angeles", "Europe/Berlin"])
VISITS = st.lists(
    st.tuples(
        st.datetimes(min_value=datetime(2025, 1, 25), max_value=datetime(2025, 12, 31)).map(
            lambda moment: moment.replace(second=0, microsecond=0, tzinfo=UTC)
        ),
        ZONES,
        st.booleans(),  # at location B
        st.sampled_from(list(AppointmentStatus)),
        st.sampled_from(["", "sms", "email"]),  # the patient's appointments preference
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(visits=VISITS, window_start=st.integers(0, 12), window_hours=st.integers(1, 12))
def test_same_rows_for_random_appointment_sets(personas, visits, window_start, window_hours):
    with transaction.atomic():
        state = transaction.savepoint()
        _default_rules()
        days_rule(1, time(19, 45), channel=ReminderChannel.PREFERENCE)
        end = min(window_start + window_hours, 23)
        MessagingPolicy.objects.create(
            location=personas.location_b, window_start=time(window_start, 0), window_end=time(end, 30)
        )

        def make() -> list[int]:
            ids = []
            for n, (at, zone, at_b, status, preference) in enumerate(visits):
                location = personas.location_b if at_b else personas.location_a
                patient = _patient(personas, n, zone=zone, location=location)
                if preference:
                    ContactPreference.objects.create(
                        patient=patient, purpose=Purpose.APPOINTMENTS, channel=preference, recorded_at=NOW
                    )
                ids.append(
                    make_appointment(personas, at, patient=patient, location=location, status=status).pk
                )
            return ids

        reference, rows = _both(make)
        assert rows == reference
        transaction.savepoint_rollback(state)
