"""A patient's own confirm, cancel and reschedule (the portal's services): the text replies' rules, not others'."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from careline.core.actor import Actor
from careline.core.models import AuditEntry
from careline.scheduling.models import (
    Appointment,
    AppointmentStatus,
    AppointmentStatusChange,
    ChangeSource,
    Reminder,
    ReminderRule,
    ReminderState,
    WaitlistEntry,
    WaitlistOffer,
)
from careline.scheduling.queries.patient_visits import (
    patient_next_visit,
    patient_status_words,
    patient_visits,
    reschedule_slots,
)
from careline.scheduling.services.patient_visits import (
    patient_visit_actions,
    patient_visit_cancel,
    patient_visit_confirm,
    patient_visit_problem,
    patient_visit_reschedule,
)
from careline.scheduling.tests.replies_support import (
    MONDAY,
    NOW,
    booked,
    chicago,
    patient_with_phone,
    setup,
)
from careline.scheduling.visit_actions import VisitAction
from careline.testing.personas import Personas

pytestmark = [pytest.mark.clock(NOW)]


@pytest.fixture
def visit(personas: Personas, clock: Any) -> Appointment:
    schedule = setup(personas)
    return booked(schedule, chicago(MONDAY, 9))


def _pat(personas: Personas) -> Actor:
    return Actor.patient(personas.pat.pk)


def test_the_patient_confirms_their_visit_from_the_portal(visit: Appointment, personas: Personas) -> None:
    patient_visit_confirm(appointment=visit, actor=_pat(personas))
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CONFIRMED
    change = AppointmentStatusChange.objects.filter(appointment=visit).last()
    assert change is not None and change.source == ChangeSource.PORTAL
    entry = AuditEntry.objects.filter(object_id=str(visit.pk)).order_by("pk").last()
    assert entry is not None and entry.actor_kind == "patient" and entry.on_behalf_of_id == personas.pat.pk


def test_a_caregiver_acts_for_the_patient_and_is_recorded(visit: Appointment, personas: Personas) -> None:
    actor = Actor.caregiver(personas.pat_caregiver.pk, patient_id=personas.pat.pk)
    patient_visit_confirm(appointment=visit, actor=actor)
    entry = AuditEntry.objects.filter(object_id=str(visit.pk)).order_by("pk").last()
    assert entry is not None and entry.actor_kind == "caregiver"
    assert entry.caregiver_id == personas.pat_caregiver.pk


def test_another_patient_cannot_act_on_the_visit(visit: Appointment, personas: Personas) -> None:
    quinn = Actor.patient(personas.quinn.pk)
    for call in (patient_visit_confirm, patient_visit_cancel):
        with pytest.raises(PermissionDenied):
            call(appointment=visit, actor=quinn)
    with pytest.raises(PermissionDenied):
        patient_visit_confirm(appointment=visit, actor=Actor.staff(personas.front_a))
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED


def test_nothing_can_be_changed_once_the_visit_started_as_by_text(
    visit: Appointment, personas: Personas, clock: Any
) -> None:
    clock.move_to(visit.starts_at + timedelta(minutes=1))
    assert patient_visit_actions(visit, visit.starts_at + timedelta(minutes=1)) == set()
    for call in (patient_visit_confirm, patient_visit_cancel):
        with pytest.raises(ValidationError, match="already started"):
            call(appointment=visit, actor=_pat(personas))
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED


def test_a_cancelled_visit_offers_no_actions_and_says_why(visit: Appointment, personas: Personas) -> None:
    patient_visit_cancel(appointment=visit, actor=_pat(personas))
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CANCELLED_PATIENT
    assert patient_visit_actions(visit, NOW) == set()
    assert patient_visit_problem(visit, VisitAction.CONFIRM, NOW) == (
        "This visit is “Cancelled at your request”, so it cannot be changed here."
    )
    assert patient_status_words(visit, NOW) == "Cancelled at your request"


def test_a_confirmed_visit_may_still_be_moved_or_cancelled(visit: Appointment, personas: Personas) -> None:
    patient_visit_confirm(appointment=visit, actor=_pat(personas))
    visit.refresh_from_db()
    assert patient_visit_actions(visit, NOW) == {VisitAction.MOVE, VisitAction.CANCEL}
    assert patient_visit_problem(visit, VisitAction.CONFIRM, NOW) == "This visit is already confirmed."


def test_a_portal_cancel_offers_the_time_to_the_waitlist_and_withdraws_reminders(
    visit: Appointment, personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    waiting = patient_with_phone(personas, "Ann", "+13125550171")
    WaitlistEntry.objects.create(patient=waiting, appointment_type=visit.appointment_type)
    with django_capture_on_commit_callbacks(execute=True):
        patient_visit_cancel(appointment=visit, actor=_pat(personas))
    assert WaitlistOffer.objects.filter(entry__patient=waiting, starts_at=visit.starts_at).count() == 1
    assert not Reminder.objects.filter(appointment=visit, state=ReminderState.PENDING).exists()


def test_reschedule_offers_free_times_of_the_same_type_at_the_same_location(
    visit: Appointment, personas: Personas
) -> None:
    slots = reschedule_slots(visit, now=NOW)
    assert slots and all(s.location == personas.location_a for s in slots)
    assert all(s.appointment_type == visit.appointment_type for s in slots)
    assert all(s.starts_at >= NOW + timedelta(hours=1) for s in slots)
    assert visit.starts_at not in {s.starts_at for s in slots}  # the visit's own time is taken


def test_a_portal_reschedule_moves_the_visit_and_re_times_its_reminders(
    visit: Appointment, personas: Personas
) -> None:
    rule = ReminderRule.objects.create(
        name="Day before", days_before=1, at_local_time="18:00", template_en="Hi"
    )
    from careline.scheduling.services.reminders import reminders_plan_for_appointment

    reminders_plan_for_appointment(visit)
    old_due = Reminder.objects.get(appointment=visit, rule=rule).due_at
    target = chicago(MONDAY + timedelta(days=1), 10)
    new = patient_visit_reschedule(
        appointment=visit, actor=_pat(personas), starts_at=target, clinician=personas.clinician_a
    )
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.RESCHEDULED
    assert new.starts_at == target and new.location == visit.location and new.rescheduled_from == visit
    assert Reminder.objects.get(appointment=visit, rule=rule).state == ReminderState.WITHDRAWN
    moved = Reminder.objects.get(appointment=new, rule=rule)
    assert moved.state == ReminderState.PENDING and moved.due_at == old_due + timedelta(days=1)


def test_reschedule_refuses_a_time_that_is_not_offered(visit: Appointment, personas: Personas) -> None:
    for starts_at in (
        chicago(MONDAY + timedelta(days=1), 10, 5),  # off the grid
        chicago(MONDAY + timedelta(days=1), 20),  # outside working hours
        NOW + timedelta(minutes=30),  # within the hour
        visit.starts_at,  # its own (taken) time
    ):
        with pytest.raises(ValidationError, match="no longer free"):
            patient_visit_reschedule(
                appointment=visit, actor=_pat(personas), starts_at=starts_at, clinician=personas.clinician_a
            )
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED


def test_patient_visits_lists_upcoming_and_past_in_two_queries(
    visit: Appointment, personas: Personas, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(2):
        found = patient_visits(personas.pat, now=NOW)
    assert found.upcoming == [visit] and found.past == []
    assert patient_next_visit(personas.quinn, now=NOW) is None
    assert patient_next_visit(personas.pat, now=NOW) == visit
