"""Which actions a visit offers, by its status and the time relative to its start: the page and the services agree.

One table (status x moment) drives both: the appointment page shows exactly the allowed buttons, and the
services refuse every other action with a sentence, changing nothing (a forged no-show for a future visit).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import override_settings
from django.urls import reverse

from careline.core.actor import Actor
from careline.scheduling.models import Appointment, AppointmentStatus, AppointmentStatusChange
from careline.scheduling.services import appointments as services
from careline.scheduling.tests.appointment_support import MONDAY, at_a, book, make_schedule
from careline.scheduling.visit_actions import (
    ACTION_STATUS,
    VisitAction,
    check_in_opens_at,
    visit_action_problem,
    visit_actions,
)

pytestmark = [pytest.mark.django_db, pytest.mark.clock(datetime(2030, 12, 1, 12, 0, tzinfo=UTC))]

A = VisitAction
BEFORE = {A.CONFIRM, A.MOVE, A.CANCEL}
# Moments relative to a 09:00-09:30 visit (local time at location A).
MOMENTS = {
    "the day before": timedelta(days=-1),
    "that morning, before check-in opens": timedelta(minutes=-90),
    "within the hour before": timedelta(minutes=-30),
    "started": timedelta(minutes=10),
    "ended": timedelta(minutes=45),
}
# status -> moment -> the actions allowed.
EXPECTED: dict[str, dict[str, set[VisitAction]]] = {
    AppointmentStatus.BOOKED: {
        "the day before": BEFORE,
        "that morning, before check-in opens": BEFORE,
        "within the hour before": BEFORE | {A.CHECK_IN},
        "started": {A.CHECK_IN, A.COMPLETE, A.NO_SHOW},
        "ended": {A.COMPLETE, A.NO_SHOW},
    },
    AppointmentStatus.CONFIRMED: {
        "the day before": {A.MOVE, A.CANCEL},
        "that morning, before check-in opens": {A.MOVE, A.CANCEL},
        "within the hour before": {A.MOVE, A.CANCEL, A.CHECK_IN},
        "started": {A.CHECK_IN, A.COMPLETE, A.NO_SHOW},
        "ended": {A.COMPLETE, A.NO_SHOW},
    },
    AppointmentStatus.CHECKED_IN: {
        "the day before": set(),
        "that morning, before check-in opens": set(),
        "within the hour before": set(),
        "started": {A.COMPLETE},
        "ended": {A.COMPLETE},
    },
    # Marked by mistake: the patient came after all (checked in while the visit lasts, completed after).
    AppointmentStatus.NO_SHOW: {
        "the day before": set(),
        "that morning, before check-in opens": set(),
        "within the hour before": {A.CHECK_IN},
        "started": {A.CHECK_IN, A.COMPLETE},
        "ended": {A.COMPLETE},
    },
    **{
        status: {moment: set() for moment in MOMENTS}
        for status in (
            AppointmentStatus.COMPLETED,
            AppointmentStatus.CANCELLED_PATIENT,
            AppointmentStatus.CANCELLED_CLINIC,
            AppointmentStatus.RESCHEDULED,
        )
    },
}
CASES = [(status, moment) for status in EXPECTED for moment in MOMENTS]


def _visit(personas: Any, status: str) -> Appointment:
    """Pat's 09:00 visit on MONDAY (booked a month ahead), put in STATUS."""
    appointment = book(make_schedule(personas), at_a(personas, MONDAY, 9), notify=False)
    Appointment.objects.filter(pk=appointment.pk).update(status=status)
    appointment.refresh_from_db()
    return appointment


def _at(appointment: Appointment, moment: str) -> datetime:
    return appointment.starts_at + MOMENTS[moment]


def _snapshot() -> tuple[Any, ...]:
    return (
        tuple(Appointment.objects.order_by("pk").values_list("pk", "status", "starts_at")),
        AppointmentStatusChange.objects.count(),
    )


def _try(appointment: Appointment, action: VisitAction, personas: Any) -> None:
    actor = Actor.staff(personas.front_a)
    if action == A.MOVE:
        services.appointment_move(
            appointment=appointment, starts_at=at_a(personas, MONDAY + timedelta(days=1), 10),
            actor=actor, source="staff",
        )  # fmt: skip
    elif action == A.CANCEL:
        services.appointment_cancel(appointment=appointment, actor=actor, source="staff", by_patient=False)
    else:
        services.appointment_set_status(
            appointment=appointment, status=ACTION_STATUS[action], actor=actor, source="staff"
        )


@pytest.mark.parametrize(("status", "moment"), CASES)
def test_the_rule_allows_exactly_the_table(personas: Any, clock: Any, status: str, moment: str) -> None:
    appointment = _visit(personas, status)
    now = _at(appointment, moment)
    assert set(visit_actions(appointment, now)) == EXPECTED[status][moment]


@pytest.mark.parametrize(("status", "moment"), CASES)
def test_the_services_do_what_the_rule_allows_and_refuse_the_rest(
    personas: Any, clock: Any, status: str, moment: str
) -> None:
    appointment = _visit(personas, status)
    clock.move_to(_at(appointment, moment))
    for action in VisitAction:
        before = _snapshot()
        fresh = Appointment.objects.get(pk=appointment.pk)
        if action in EXPECTED[status][moment]:
            with transaction.atomic():
                _try(fresh, action, personas)
                assert _snapshot() != before, action
                transaction.set_rollback(True)
        else:
            with pytest.raises(ValidationError) as refused:
                _try(fresh, action, personas)
            assert " ".join(refused.value.messages).strip(), action
            assert _snapshot() == before, action


@pytest.mark.parametrize(("status", "moment"), CASES)
def test_the_page_shows_exactly_the_allowed_buttons(
    personas: Any, client_for: Any, clock: Any, status: str, moment: str
) -> None:
    appointment = _visit(personas, status)
    clock.move_to(_at(appointment, moment))
    page = client_for(personas.front_a).get(reverse("scheduling:appointment", args=[appointment.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    shown = {action for action in ACTION_STATUS if f'name="action" value="{action}"' in html}
    if reverse("scheduling:move", args=[appointment.pk]) in html:
        shown.add(A.MOVE)
    if reverse("scheduling:cancel", args=[appointment.pk]) in html:
        shown.add(A.CANCEL)
    assert shown == EXPECTED[status][moment]


@pytest.mark.parametrize("action", [A.NO_SHOW, A.COMPLETE, A.CHECK_IN])
def test_a_forged_post_for_a_future_visit_is_refused_and_changes_nothing(
    personas: Any, client_for: Any, clock: Any, action: VisitAction
) -> None:
    appointment = _visit(personas, AppointmentStatus.BOOKED)
    client = client_for(personas.front_a)
    before = _snapshot()
    response = client.post(
        reverse("scheduling:status", args=[appointment.pk]), {"action": action}, follow=True
    )
    assert _snapshot() == before
    html = response.content.decode()
    assert "has not started yet" in html or "Check-in opens at 08:00 on Mon 6 Jan 2031" in html


def test_moving_or_cancelling_a_visit_that_has_started_is_refused_on_the_pages(
    personas: Any, client_for: Any, clock: Any
) -> None:
    appointment = _visit(personas, AppointmentStatus.CONFIRMED)
    clock.move_to(appointment.starts_at + timedelta(minutes=5))
    client = client_for(personas.front_a)
    before = _snapshot()
    move_url = reverse("scheduling:move", args=[appointment.pk])
    moved = client.post(move_url, {"clinician": personas.clinician_a.pk, "location": personas.location_a.pk,
                                   "date": f"{MONDAY + timedelta(days=1):%Y-%m-%d}", "time": "10:00"})  # fmt: skip
    assert moved.status_code == 400 and "already started" in moved.content.decode()
    cancelled = client.post(reverse("scheduling:cancel", args=[appointment.pk]), {"by_patient": "1"})
    assert cancelled.status_code == 400 and "already started" in cancelled.content.decode()
    assert _snapshot() == before
    # The forms themselves send the person back to the visit, saying why.
    shown = client.get(move_url, follow=True)
    assert shown.redirect_chain[-1][0] == reverse("scheduling:appointment", args=[appointment.pk])
    assert "already started, so it can no longer be moved" in shown.content.decode()


def test_the_page_says_when_check_in_opens(personas: Any, client_for: Any, clock: Any) -> None:
    appointment = _visit(personas, AppointmentStatus.BOOKED)
    html = client_for(personas.front_a).get(reverse("scheduling:appointment", args=[appointment.pk]))
    assert "Check-in opens at 08:00 on Mon 6 Jan 2031." in html.content.decode()


@override_settings(CARELINE_CHECK_IN_OPENS_MINUTES=15)
def test_check_in_opens_when_configured_but_never_the_day_before(personas: Any, clock: Any) -> None:
    appointment = _visit(personas, AppointmentStatus.BOOKED)
    assert check_in_opens_at(appointment) == appointment.starts_at - timedelta(minutes=15)
    assert visit_action_problem(appointment, A.CHECK_IN, appointment.starts_at - timedelta(minutes=16))
    assert not visit_action_problem(appointment, A.CHECK_IN, appointment.starts_at - timedelta(minutes=15))
    with override_settings(CARELINE_CHECK_IN_OPENS_MINUTES=600):
        # 09:00 less ten hours is the evening before: check-in opens at midnight of the visit's day.
        assert check_in_opens_at(appointment) == at_a(personas, MONDAY, 0)


def test_imports_and_the_system_are_not_held_to_the_clock(personas: Any, clock: Any) -> None:
    appointment = _visit(personas, AppointmentStatus.BOOKED)
    # A correction recorded by the system before the visit (as an import records what happened elsewhere).
    services.appointment_set_status(
        appointment=appointment, status=AppointmentStatus.NO_SHOW, actor=Actor.system("test"), source="system"
    )
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.NO_SHOW
