"""A critical reading after hours pages the clinician on call, and the patient's answer says so — only when a
clinician really was paged (not when nobody is on call, not in office hours), in English and Spanish."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from careline.care.models import CareAlert, Enrolment, Severity
from careline.care.tests.support import MONDAY_8_CHICAGO, answers, enrolled, text
from careline.oncall.models import Page, PageState
from careline.oncall.tests.helpers import shift
from careline.testing.personas import Personas

pytestmark = [pytest.mark.clock(MONDAY_8_CHICAGO)]

NIGHT = datetime(2031, 1, 7, 9, 0, tzinfo=UTC)  # 03:00 on a Tuesday in Chicago
TOLD = "we have told the clinician on call"


@pytest.fixture
def enrolment(personas: Personas, clock: Any) -> Enrolment:
    return enrolled(personas.pat, personas.clinician_a)


def _critical_answer() -> Any:
    return next(m for m in answers() if "call Northside Clinic now" in m.body or "llame" in m.body.lower())


def test_the_critical_answer_at_3am_says_the_clinician_on_call_was_told(
    personas: Personas, enrolment: Enrolment, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    shift(personas.location_a, personas.clinician_a, NIGHT - timedelta(hours=6), NIGHT + timedelta(hours=6))
    clock.move_to(NIGHT)
    with django_capture_on_commit_callbacks(execute=True):
        text("bp 190/125")
    page = Page.objects.get()
    assert (page.state, page.clinician, page.reason) == (
        PageState.PAGED,
        personas.clinician_a,
        "critical-reading",
    )
    assert page.link_path == f"/care/alerts/{CareAlert.objects.get(severity=Severity.CRITICAL).pk}"
    answer = _critical_answer()
    assert TOLD in answer.body and "911" in answer.body
    assert answer.urgent and answer.due_at is None
    assert "190" not in answer.body and "125" not in answer.body  # never the value


def test_nobody_on_call_the_answer_does_not_claim_anyone_was_told(
    personas: Personas, enrolment: Enrolment, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    clock.move_to(NIGHT)
    with django_capture_on_commit_callbacks(execute=True):
        text("bp 190/125")
    assert Page.objects.get().state == PageState.UNCOVERED  # the administrators were told instead
    answer = _critical_answer()
    assert "on call" not in answer.body and "911" in answer.body


def test_in_office_hours_there_is_no_page_and_no_claim(
    personas: Personas, enrolment: Enrolment, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    noon = datetime(2031, 1, 7, 16, 0, tzinfo=UTC)  # 10:00 on a Tuesday in Chicago
    shift(personas.location_a, personas.clinician_a, noon - timedelta(hours=1), noon + timedelta(hours=1))
    clock.move_to(noon)
    with django_capture_on_commit_callbacks(execute=True):
        text("bp 190/125")
    assert not Page.objects.exists()
    assert "on call" not in _critical_answer().body


def test_a_clinician_with_no_mobile_or_email_was_not_told(
    personas: Personas, enrolment: Enrolment, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    clinician = personas.clinician_a
    clinician.mobile, clinician.email = "", ""
    clinician.save(update_fields=["mobile", "email"])
    shift(personas.location_a, clinician, NIGHT - timedelta(hours=6), NIGHT + timedelta(hours=6))
    clock.move_to(NIGHT)
    with django_capture_on_commit_callbacks(execute=True):
        text("bp 190/125")
    assert "on call" not in _critical_answer().body


def test_the_spanish_answer_says_so_too(
    personas: Personas, enrolment: Enrolment, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    personas.pat.language = "es"
    personas.pat.save()
    shift(personas.location_a, personas.clinician_a, NIGHT - timedelta(hours=6), NIGHT + timedelta(hours=6))
    clock.move_to(NIGHT)
    with django_capture_on_commit_callbacks(execute=True):
        text("presion 190/125")
    critical = [m for m in answers() if m.urgent]
    assert len(critical) == 1
    assert "médico de guardia" in critical[0].body and "911" in critical[0].body
