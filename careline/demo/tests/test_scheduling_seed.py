"""The demo clinic's scheduling: types, hours, time off, two weeks of visits, a series, a waitlist, reminders."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from careline.demo.scheduling_seed import APPOINTMENT_TYPES, DAYS_AROUND_NOW, scheduling_demo_populate
from careline.demo.services import DemoSummary, demo_clinic_load
from careline.locations.models import Location
from careline.messaging.models import MessageKind
from careline.messaging.outbound.compose import patient_sms_number
from careline.messaging.outbound.policy import suppression_reason_for
from careline.messaging.services.channels import simulator_channel
from careline.scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentSeries,
    AppointmentStatus,
    AppointmentStatusChange,
    AppointmentType,
    ChangeSource,
    Reminder,
    ReminderState,
    TimeOff,
    WaitlistEntry,
    WorkingHours,
)

pytestmark = pytest.mark.django_db

# A Tuesday afternoon in March, away from daylight-saving changes; the seed is generated around it.
NOW = "2025-03-18 15:00:00+00:00"


@pytest.fixture
def demo(settings: Any, tmp_path: Path) -> Iterator[DemoSummary]:
    settings.VAR_DIR = tmp_path
    with time_machine.travel(NOW, tick=False):
        yield demo_clinic_load(patients=80, notes=0)


def _table_counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            AppointmentType,
            WorkingHours,
            TimeOff,
            Appointment,
            AppointmentSeries,
            AppointmentStatusChange,
            WaitlistEntry,
            Reminder,
        )
    }


def test_types_hours_and_time_off(demo):
    types = {t.name: t for t in AppointmentType.objects.prefetch_related("locations", "clinicians")}
    assert set(types) == {spec.name for spec in APPOINTMENT_TYPES}
    assert types["Physiotherapy"].name_safe_to_text and types["Flu shot"].name_safe_to_text
    # Physiotherapy visits may be lengthened on the calendar; the others keep their type's length.
    assert [name for name, kind in sorted(types.items()) if kind.variable_length] == ["Physiotherapy"]
    assert not types["Annual physical"].name_safe_to_text
    for kind in types.values():
        assert kind.locations.count() == 2
        assert kind.clinicians.exists()
    # A split day: one clinician with two periods at one location on one weekday.
    days = Counter(WorkingHours.objects.values_list("clinician", "location", "weekday"))
    assert max(days.values()) >= 2
    off = TimeOff.objects.get()
    assert off.ends_at - off.starts_at == timedelta(days=1)
    assert demo.counts["appointments"] == Appointment.objects.count()


def test_two_weeks_of_visits_past_done_upcoming_booked(demo):
    now = timezone.now()
    appointments = list(Appointment.objects.all())
    past = [a for a in appointments if a.ends_at <= now]
    upcoming = [a for a in appointments if a.starts_at > now]
    assert len(past) >= 40 and len(upcoming) >= 40
    assert {a.status for a in past} == {AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW}
    no_show_share = sum(a.status == AppointmentStatus.NO_SHOW for a in past) / len(past)
    assert 0.03 <= no_show_share <= 0.2
    assert {a.status for a in upcoming} == {AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED}
    # Outside the weekly series, everything lies within a week of now.
    window = timedelta(days=DAYS_AROUND_NOW + 1)
    assert all(abs(a.starts_at - now) <= window for a in appointments if a.series_id is None)
    # Each visit has its history, starting with the booking.
    first = AppointmentStatusChange.objects.filter(from_status="", to_status=AppointmentStatus.BOOKED)
    assert first.count() == len(appointments)
    assert AppointmentStatusChange.objects.filter(
        to_status=AppointmentStatus.CONFIRMED, source=ChangeSource.TEXT
    ).exists()
    assert not AppointmentStatusChange.objects.filter(at__gt=now).exists()


def test_no_clinician_is_double_booked(demo):
    by_clinician: dict[int, list[Appointment]] = defaultdict(list)
    for appointment in Appointment.objects.order_by("starts_at"):
        by_clinician[appointment.clinician_id].append(appointment)
    assert len(by_clinician) == 2
    for visits in by_clinician.values():
        for earlier, later in itertools.pairwise(visits):
            assert earlier.ends_at <= later.starts_at, (earlier.pk, later.pk)


def test_visits_fall_in_working_hours_and_never_in_time_off(demo):
    hours = defaultdict(list)
    for period in WorkingHours.objects.all():
        hours[(period.clinician_id, period.location_id, period.weekday)].append((period.starts, period.ends))
    off = TimeOff.objects.get()
    for appointment in Appointment.objects.select_related("location", "appointment_type"):
        start = appointment.starts_at.astimezone(appointment.location.zone)
        end = appointment.ends_at.astimezone(appointment.location.zone)
        assert end - start == timedelta(minutes=appointment.appointment_type.duration_minutes)
        periods = hours[(appointment.clinician_id, appointment.location_id, start.weekday())]
        assert any(s <= start.time() and end.time() <= e for s, e in periods), appointment.pk
        if appointment.clinician_id == off.clinician_id:
            assert appointment.ends_at <= off.starts_at or appointment.starts_at >= off.ends_at


def test_a_weekly_physiotherapy_series_and_a_waitlist(demo):
    series = AppointmentSeries.objects.get()
    members = list(series.appointments.select_related("appointment_type", "location"))
    assert len(members) == series.count >= 4
    assert {m.appointment_type.name for m in members} == {"Physiotherapy"}
    assert {m.patient_id for m in members} == {series.patient_id}
    local = [m.starts_at.astimezone(m.location.zone) for m in members]
    assert len({(t.weekday(), t.time()) for t in local}) == 1
    assert all(b - a == timedelta(weeks=1) for a, b in itertools.pairwise(local))
    now = timezone.now()
    assert any(m.starts_at < now for m in members) and any(m.starts_at > now for m in members)
    waiting = list(WaitlistEntry.objects.filter(state=WaitlistEntry.State.WAITING))
    assert len(waiting) == 3
    assert sum(entry.current_appointment_id is not None for entry in waiting) == 2


def test_every_upcoming_reminder_eligible_visit_has_pending_reminders(demo):
    now = timezone.now()
    channel = simulator_channel()
    # Far enough ahead that both default reminders (2 days before at 10:00, 2 hours before) are still due.
    eligible = [
        a
        for a in Appointment.objects.filter(
            starts_at__gt=now + timedelta(days=3), appointment_type__reminders_apply=True
        ).select_related("patient")
        if a.status in ACTIVE_STATUSES
        and not suppression_reason_for(
            channel=channel,
            address=patient_sms_number(a.patient) or "",
            patient=a.patient,
            kind=MessageKind.AUTOMATED,
        )
    ]
    assert len(eligible) >= 10
    pending = Counter(
        Reminder.objects.filter(state=ReminderState.PENDING, due_at__gt=now).values_list(
            "appointment_id", flat=True
        )
    )
    missing = [a.pk for a in eligible if pending[a.pk] == 0]
    assert not missing, f"{len(missing)} of {len(eligible)} upcoming visits have no pending reminder"
    assert not Reminder.objects.filter(appointment__starts_at__lt=now, state=ReminderState.PENDING).exists()


def test_loading_twice_adds_nothing(demo, settings):
    before = _table_counts()
    assert not demo_clinic_load(patients=80, notes=0).created
    staff = type("Staff", (), {"clinicians": [], "front_desk": {}})()
    assert scheduling_demo_populate(locations=list(Location.objects.all()), staff=staff, seed=1) == {}
    assert _table_counts() == before


def test_visit_requests_wait_in_the_queue_with_directions_and_spanish_preparation(demo):
    from careline.locations.models import Location
    from careline.scheduling.models import AppointmentType, VisitRequest, VisitRequestState

    requests = list(VisitRequest.objects.select_related("appointment_type", "location"))
    assert len(requests) == 2 and {r.state for r in requests} == {VisitRequestState.OPEN}
    assert all(r.appointment_type.bookable_online for r in requests)
    assert all(location.directions for location in Location.objects.all())
    physical = AppointmentType.objects.get(name="Annual physical")
    assert physical.preparation_for("es") == "Traiga una lista de sus medicamentos."
