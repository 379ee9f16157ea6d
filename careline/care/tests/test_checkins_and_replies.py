"""Check-ins by text, replies through the router, confirmations, and the critical answer at any hour."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from careline.care.events import CareAlertOpened
from careline.care.models import (
    AlertKind,
    AlertState,
    CareAlert,
    CheckIn,
    CheckInState,
    Enrolment,
    Reading,
    ReadingSource,
    Severity,
)
from careline.care.services.checkins import care_sweep, checkins_send_due
from careline.care.services.enrolment import enrolment_end
from careline.care.tests.support import MONDAY_8_CHICAGO, PAT_NUMBER, answers, enrolled, text
from careline.core.actor import Actor
from careline.core.events import Phase, subscribe, unsubscribe
from careline.messaging.models import Prompt, PromptState
from careline.testing.personas import Personas

pytestmark = [pytest.mark.clock(MONDAY_8_CHICAGO)]


@pytest.fixture
def enrolment(personas: Personas, clock: Any) -> Enrolment:
    return enrolled(personas.pat, personas.clinician_a)


def _sent_checkin(clock: Any) -> CheckIn:
    clock.move_to(datetime(2031, 1, 6, 15, 0, tzinfo=UTC))  # 9:00 in Chicago
    assert checkins_send_due() == 1
    return CheckIn.objects.get(state=CheckInState.SENT)


def test_enrolment_plans_a_week_of_checkins_at_the_patients_local_time(enrolment: Enrolment) -> None:
    due = list(CheckIn.objects.filter(enrolment=enrolment).values_list("due_at", flat=True))
    assert len(due) == 7
    assert due[0] == datetime(2031, 1, 6, 15, 0, tzinfo=UTC)  # 9:00 CST
    assert all((b - a) == timedelta(days=1) for a, b in itertools.pairwise(due))


def test_a_due_checkin_is_texted_once_with_a_prompt(enrolment: Enrolment, clock: Any) -> None:
    _sent_checkin(clock)
    assert checkins_send_due() == 0
    (message,) = answers()
    assert message.body == "Good morning Pat, please reply with today's blood pressure, for example 128/82."
    prompt = Prompt.objects.get(owner="care", state=PromptState.OPEN)
    assert prompt.phone_number == PAT_NUMBER


def test_a_spanish_speaking_patient_is_asked_in_spanish(
    personas: Personas, enrolment: Enrolment, clock: Any
) -> None:
    personas.pat.language = "es"
    personas.pat.save()
    _sent_checkin(clock)
    assert answers()[0].body.startswith("Buenos días Pat")


def test_a_reply_is_recorded_with_units_and_loinc_and_confirmed(enrolment: Enrolment, clock: Any) -> None:
    checkin = _sent_checkin(clock)
    clock.shift(timedelta(minutes=5))
    text("BP 132/84 pulse 70")
    reading = Reading.objects.get()
    assert (reading.value, reading.value2, reading.pulse, reading.unit) == (132, 84, 70, "mmHg")
    assert (reading.loinc_code, reading.loinc_code2, reading.source) == (
        "8480-6",
        "8462-4",
        ReadingSource.TEXT,
    )
    assert reading.checkin_id == checkin.pk and reading.severity == Severity.NORMAL
    checkin.refresh_from_db()
    assert checkin.state == CheckInState.ANSWERED
    confirmation = answers()[-1].body
    assert confirmation.startswith("Thanks, we recorded 132/84 on Mon 9:05 AM.")
    assert "call 911" in confirmation
    # The second reading of the day is confirmed without the line.
    text("130/80")
    assert "911" not in answers()[-1].body


def test_an_implausible_value_is_questioned_and_nothing_is_stored(enrolment: Enrolment, clock: Any) -> None:
    _sent_checkin(clock)
    text("15/9")
    assert not Reading.objects.exists()
    assert "looks unusual" in answers()[-1].body


def test_an_unreadable_reply_gets_an_example(enrolment: Enrolment, clock: Any) -> None:
    _sent_checkin(clock)
    text("feeling fine")
    assert not Reading.objects.exists()
    assert (
        answers()[-1].body
        == "Sorry, we could not read that. Please reply with your blood pressure, for example 128/82."
    )


def test_a_critical_reading_at_3am_is_answered_at_once_and_opens_an_alert(
    enrolment: Enrolment, clock: Any
) -> None:
    events: list[CareAlertOpened] = []
    subscribe(CareAlertOpened, events.append, phase=Phase.IN_TRANSACTION)
    try:
        clock.move_to(datetime(2031, 1, 7, 9, 0, tzinfo=UTC))  # 03:00 in Chicago
        text("bp 190/125")
    finally:
        unsubscribe(CareAlertOpened, events.append, phase=Phase.IN_TRANSACTION)
    critical = next(m for m in answers() if "call Northside Clinic now" in m.body)
    assert critical.urgent and not critical.held_for_quiet_hours and critical.due_at is None
    assert "190" not in critical.body  # what to do, never the value
    alert = CareAlert.objects.get()
    assert (alert.severity, alert.kind, alert.location_id) == (
        Severity.CRITICAL,
        AlertKind.THRESHOLD,
        enrolment.location_id,
    )
    assert [e.alert_id for e in events] == [alert.pk]


def test_two_replies_store_two_readings(enrolment: Enrolment, clock: Any) -> None:
    _sent_checkin(clock)
    text("150/95")
    text("148/92")
    assert Reading.objects.count() == 2


def test_unenrolment_stops_the_checkins(personas: Personas, enrolment: Enrolment, clock: Any) -> None:
    _sent_checkin(clock)
    assert enrolment_end(enrolment=enrolment, actor=Actor.staff(personas.clinician_a))
    assert not CheckIn.objects.filter(state=CheckInState.PLANNED).exists()
    assert not Prompt.objects.filter(owner="care", state=PromptState.OPEN).exists()
    clock.shift(timedelta(days=1))
    assert care_sweep()["sent"] == 0


def test_an_alert_left_unacknowledged_escalates_once(enrolment: Enrolment, clock: Any) -> None:
    from careline.care.events import CareAlertEscalated

    _sent_checkin(clock)
    text("185/100")
    alert = CareAlert.objects.get()
    clock.shift(timedelta(minutes=59))
    assert care_sweep()["escalated"] == 0
    clock.shift(timedelta(minutes=2))
    events: list[CareAlertEscalated] = []
    subscribe(CareAlertEscalated, events.append, phase=Phase.IN_TRANSACTION)
    try:
        assert care_sweep()["escalated"] == 1
        assert care_sweep()["escalated"] == 0
    finally:
        unsubscribe(CareAlertEscalated, events.append, phase=Phase.IN_TRANSACTION)
    assert [(e.alert_id, e.location_id, e.severity) for e in events] == [
        (alert.pk, enrolment.location_id, Severity.CRITICAL)
    ]
    alert.refresh_from_db()
    assert alert.escalated_at is not None and alert.state == AlertState.OPEN


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_replies_at_the_same_moment_store_two_readings_and_one_safety_line(
    personas: Personas, clock: Any
) -> None:
    import threading

    from django.db import connection

    enrolled(personas.pat, personas.clinician_a)
    _sent_checkin(clock)
    barrier = threading.Barrier(2)

    def reply(body: str) -> None:
        try:
            barrier.wait()
            text(body)
        finally:
            connection.close()

    threads = [threading.Thread(target=reply, args=(body,)) for body in ("150/95", "148/92")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(Reading.objects.values_list("value", flat=True)) == [148, 150]
    assert sum("911" in m.body for m in answers()) == 1
    assert CareAlert.objects.count() == 1  # both are warnings: one alert, not two


def test_a_critical_reading_at_3am_pages_the_clinician_on_call(
    personas: Personas, enrolment: Enrolment, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from careline.oncall.models import Page
    from careline.oncall.tests.helpers import shift

    night = datetime(2031, 1, 7, 9, 0, tzinfo=UTC)  # 03:00 in Chicago
    shift(personas.location_a, personas.clinician_a, night - timedelta(hours=6), night + timedelta(hours=6))
    clock.move_to(night)
    with django_capture_on_commit_callbacks(execute=True):
        text("bp 190/125")
    alert = CareAlert.objects.get()
    page = Page.objects.get()
    assert (page.reason, page.link_path, page.clinician) == (
        "critical-reading",
        f"/care/alerts/{alert.pk}",
        personas.clinician_a,
    )


def test_a_critical_reading_in_office_hours_goes_to_the_worklist_only(
    personas: Personas, enrolment: Enrolment, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from careline.oncall.models import Page

    clock.move_to(datetime(2031, 1, 7, 16, 0, tzinfo=UTC))  # 10:00 on a Tuesday in Chicago
    with django_capture_on_commit_callbacks(execute=True):
        text("bp 190/125")
    assert CareAlert.objects.filter(severity=Severity.CRITICAL).exists()
    assert not Page.objects.exists()
