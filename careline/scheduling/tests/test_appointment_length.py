"""A visit's length: fixed by its type, unless the type allows a variable length (resized on the calendar)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from careline.core.actor import Actor
from careline.scheduling.models import Appointment, AppointmentStatus
from careline.scheduling.services.appointments import appointment_move
from careline.scheduling.tests.appointment_support import MONDAY, at_a, book, make_schedule

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.clock("2030-12-01T12:00:00Z"),
    pytest.mark.usefixtures("clock"),
]


def _move(personas: Any, visit: Appointment, hour: int, minute: int = 0, **extra: Any) -> Appointment:
    return appointment_move(
        appointment=visit, starts_at=at_a(personas, MONDAY, hour, minute), actor=Actor.staff(personas.front_a),
        source="staff", **extra,
    )  # fmt: skip


def test_a_variable_length_visit_takes_the_new_length_and_keeps_it_when_moved(personas: Any) -> None:
    schedule = make_schedule(personas)
    schedule.checkup.variable_length = True
    schedule.checkup.save()
    visit = book(schedule, at_a(personas, MONDAY, 9), notify=False)
    longer = _move(personas, visit, 9, duration_minutes=60)
    assert longer.ends_at - longer.starts_at == timedelta(minutes=60)
    assert Appointment.objects.get(pk=visit.pk).status == AppointmentStatus.RESCHEDULED
    moved = _move(personas, longer, 14)
    assert moved.ends_at - moved.starts_at == timedelta(minutes=60)


def test_a_fixed_length_visit_refuses_another_length(personas: Any) -> None:
    schedule = make_schedule(personas)
    visit = book(schedule, at_a(personas, MONDAY, 9), notify=False)
    with pytest.raises(ValidationError, match="fixed length"):
        _move(personas, visit, 9, duration_minutes=60)
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED and not Appointment.objects.filter(rescheduled_from=visit)
    same = _move(personas, visit, 10, duration_minutes=30)  # its own length is no change of length
    assert same.ends_at - same.starts_at == timedelta(minutes=30)


@pytest.mark.parametrize("minutes", [0, 3, 61, 485])
def test_a_new_length_must_be_whole_five_minutes_up_to_eight_hours(personas: Any, minutes: int) -> None:
    schedule = make_schedule(personas)
    schedule.checkup.variable_length = True
    schedule.checkup.save()
    visit = book(schedule, at_a(personas, MONDAY, 9), notify=False)
    with pytest.raises(ValidationError, match="5 to 480 minutes"):
        _move(personas, visit, 9, duration_minutes=minutes)


def test_a_longer_visit_still_has_to_fit_the_working_hours(personas: Any) -> None:
    schedule = make_schedule(personas)
    schedule.checkup.variable_length = True
    schedule.checkup.save()
    visit = book(schedule, at_a(personas, MONDAY, 11), notify=False)
    with pytest.raises(ValidationError, match="does not work"):
        _move(personas, visit, 11, duration_minutes=90)  # past the 12:00 lunch break


def test_administrators_choose_whether_a_type_has_a_variable_length(personas: Any, client_for: Any) -> None:
    from django.urls import reverse

    from careline.scheduling.models import AppointmentType

    client = client_for(personas.admin)
    assert "Variable length" in client.get(reverse("scheduling:type_create")).content.decode()
    response = client.post(reverse("scheduling:type_create"), {"name": "Physio", "duration_minutes": 45,
                           "locations": [personas.location_a.pk], "clinicians": [personas.clinician_a.pk],
                           "variable_length": "on", "is_active": "on"})  # fmt: skip
    assert response.status_code == 302
    assert AppointmentType.objects.get(name="Physio").variable_length
