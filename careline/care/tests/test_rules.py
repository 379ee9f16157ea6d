"""Thresholds (the program's and a patient's own), trend rules, missed check-ins, reminders and call tasks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from careline.care.models import AlertKind, CareAlert, CheckIn, CheckInState, Reading, Severity
from careline.care.services.checkins import care_sweep
from careline.care.services.readings import reading_add_by_staff
from careline.care.tests.support import MONDAY_8_CHICAGO, answers, enrolled, text
from careline.core.actor import Actor
from careline.testing.personas import Personas

pytestmark = [pytest.mark.clock(MONDAY_8_CHICAGO)]
D = Decimal


def _staff_reading(
    personas: Personas, measure: str, value: str, value2: str | None = None, **at: Any
) -> Reading:
    from django.utils import timezone

    return reading_add_by_staff(
        patient=personas.pat, measure=measure, value=D(value), value2=D(value2) if value2 else None,
        taken_at=at.get("taken_at", timezone.now()), actor=Actor.staff(personas.clinician_a),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("systolic", "diastolic", "severity"),
    [
        ("128", "82", Severity.NORMAL),
        ("145", "85", Severity.WARNING),
        ("130", "92", Severity.WARNING),
        ("181", "90", Severity.CRITICAL),
        ("150", "121", Severity.CRITICAL),
        ("88", "60", Severity.CRITICAL),
    ],
)
def test_a_pressure_is_judged_by_the_programs_thresholds(
    personas: Personas, clock: Any, systolic: str, diastolic: str, severity: str
) -> None:
    enrolled(personas.pat, personas.clinician_a)
    reading = _staff_reading(personas, "blood_pressure", systolic, diastolic)
    assert reading.severity == severity
    assert CareAlert.objects.filter(kind=AlertKind.THRESHOLD).exists() == (severity != Severity.NORMAL)


def test_a_patients_own_thresholds_replace_the_programs(personas: Personas, clock: Any) -> None:
    enrolled(
        personas.pat, personas.clinician_a,
        overrides={"blood_pressure": {"warning_high": "160", "critical_high": "200"}},
    )  # fmt: skip
    assert _staff_reading(personas, "blood_pressure", "150", "80").severity == Severity.NORMAL
    assert _staff_reading(personas, "blood_pressure", "185", "80").severity == Severity.WARNING


def test_a_worse_reading_raises_the_open_alert_instead_of_adding_one(personas: Personas, clock: Any) -> None:
    enrolled(personas.pat, personas.clinician_a)
    _staff_reading(personas, "blood_pressure", "145", "85")
    _staff_reading(personas, "blood_pressure", "185", "85")
    alert = CareAlert.objects.get(kind=AlertKind.THRESHOLD)
    assert alert.severity == Severity.CRITICAL


def test_three_warnings_in_seven_days_open_a_trend_alert(personas: Personas, clock: Any) -> None:
    enrolled(personas.pat, personas.clinician_a)
    for _ in range(2):
        _staff_reading(personas, "blood_pressure", "145", "85")
        clock.shift(timedelta(days=3))
        assert not CareAlert.objects.filter(kind=AlertKind.TREND).exists()
    _staff_reading(personas, "blood_pressure", "146", "85")
    assert CareAlert.objects.filter(kind=AlertKind.TREND, severity=Severity.WARNING).count() == 1


def test_warnings_spread_over_more_than_seven_days_are_no_trend(personas: Personas, clock: Any) -> None:
    enrolled(personas.pat, personas.clinician_a)
    for _ in range(3):
        _staff_reading(personas, "blood_pressure", "145", "85")
        clock.shift(timedelta(days=4))
    assert not CareAlert.objects.filter(kind=AlertKind.TREND).exists()


def test_heart_failure_weight_gain_of_2kg_in_3_days_opens_an_alert(personas: Personas, clock: Any) -> None:
    enrolled(personas.pat, personas.clinician_a, code="heart-failure")
    _staff_reading(personas, "weight", "80.0")
    clock.shift(timedelta(days=1))
    _staff_reading(personas, "weight", "81.0")
    assert not CareAlert.objects.filter(kind=AlertKind.WEIGHT_GAIN).exists()
    clock.shift(timedelta(days=1))
    _staff_reading(personas, "weight", "82.1")
    alert = CareAlert.objects.get(kind=AlertKind.WEIGHT_GAIN)
    assert "2.1 kg in 3 days" in alert.summary


def test_a_slow_gain_over_a_week_is_no_weight_alert(personas: Personas, clock: Any) -> None:
    enrolled(personas.pat, personas.clinician_a, code="heart-failure")
    for value in ("80.0", "80.8", "81.6", "82.4"):
        _staff_reading(personas, "weight", value)
        clock.shift(timedelta(days=2))
    assert not CareAlert.objects.filter(kind=AlertKind.WEIGHT_GAIN).exists()


def test_a_heart_failure_yes_to_the_symptom_question_is_a_warning(personas: Personas, clock: Any) -> None:
    enrolled(personas.pat, personas.clinician_a, code="heart-failure")
    clock.move_to(datetime(2031, 1, 6, 15, 0, tzinfo=UTC))
    care_sweep()
    assert "Are you more short of breath than yesterday? Reply Y or N." in answers()[0].body
    text("weight 180 lb, y")
    measures = dict(Reading.objects.values_list("measure", "severity"))
    assert measures == {"weight": Severity.NORMAL, "symptom": Severity.WARNING}


def test_an_unanswered_checkin_is_reminded_once_after_the_programs_hours(
    personas: Personas, clock: Any
) -> None:
    enrolled(personas.pat, personas.clinician_a)
    clock.move_to(datetime(2031, 1, 6, 15, 0, tzinfo=UTC))
    care_sweep()
    clock.shift(timedelta(hours=3, minutes=59))
    assert care_sweep()["reminded"] == 0
    clock.shift(timedelta(minutes=2))
    assert care_sweep()["reminded"] == 1
    assert care_sweep()["reminded"] == 0
    assert answers()[-1].body.startswith("Hi Pat, we have not received today's check-in yet.")


def test_missed_days_in_a_row_open_one_call_task(personas: Personas, clock: Any) -> None:
    enrolled(personas.pat, personas.clinician_a)
    clock.move_to(datetime(2031, 1, 6, 15, 0, tzinfo=UTC))
    care_sweep()
    clock.shift(timedelta(days=1))
    care_sweep()  # the first check-in is missed, the second sent
    assert not CareAlert.objects.filter(kind=AlertKind.MISSED).exists()
    clock.shift(timedelta(days=1))
    care_sweep()  # the second is missed too: two in a row
    task = CareAlert.objects.get(kind=AlertKind.MISSED)
    assert "call the patient" in task.summary
    assert CheckIn.objects.filter(state=CheckInState.MISSED).count() == 2
    clock.shift(timedelta(days=1))
    care_sweep()
    assert CareAlert.objects.filter(kind=AlertKind.MISSED).count() == 1


def test_a_reply_after_a_missed_day_breaks_the_run(personas: Personas, clock: Any) -> None:
    enrolled(personas.pat, personas.clinician_a)
    clock.move_to(datetime(2031, 1, 6, 15, 0, tzinfo=UTC))
    care_sweep()
    clock.shift(timedelta(days=1))
    care_sweep()
    text("128/80")
    clock.shift(timedelta(days=1))
    care_sweep()
    assert not CareAlert.objects.filter(kind=AlertKind.MISSED).exists()


def test_the_program_ends_after_its_last_day(personas: Personas, clock: Any) -> None:
    from careline.care.services.checkins import checkins_plan_ahead

    enrolment = enrolled(personas.pat, personas.clinician_a, code="post-surgery")  # 14 days
    for _ in range(15):
        clock.shift(timedelta(days=1))
        checkins_plan_ahead()
    enrolment.refresh_from_db()
    assert not enrolment.is_active
    assert CheckIn.objects.filter(enrolment=enrolment).count() == 14


def test_plan_ahead_tops_up_every_enrolment_in_a_few_queries(
    personas: Personas, clock: Any, django_assert_max_num_queries: Any
) -> None:
    from datetime import date

    from careline.care.services.checkins import checkins_plan_ahead
    from careline.patients.models import Patient

    enrolments = [enrolled(personas.pat, personas.clinician_a)]
    for index in range(5):
        patient = Patient.objects.create(
            mrn=f"MRN-PLAN-{index}", legal_first_name=f"Plan{index}", legal_last_name="Ahead",
            date_of_birth=date(1960, 1, 1), primary_location=personas.location_a,
        )  # fmt: skip
        enrolments.append(enrolled(patient, personas.clinician_a))
    clock.shift(timedelta(days=6))
    with django_assert_max_num_queries(12):  # however many enrolments: set-based, one transaction
        created = checkins_plan_ahead()
    assert created >= 6 * 6  # six more days each (rows already there are passed over, and counted)
    for enrolment in enrolments:
        due = list(CheckIn.objects.filter(enrolment=enrolment).values_list("due_at", flat=True))
        assert len(due) == len(set(due)) == 13
    assert checkins_plan_ahead() == 0  # nothing missing: nothing planned
