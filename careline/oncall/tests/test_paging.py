"""Paging: text and email to the clinician on call with no patient detail, the backup after the
acknowledgement window, acknowledgement stopping it, and nobody on call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core import mail

from careline.core.actor import Actor
from careline.oncall.models import NoticeMedium, NoticeState, Page, PageNotice, PageState
from careline.oncall.services.paging import (
    PageRefused,
    page_acknowledge,
    page_on_call,
    pages_escalate_due,
)
from careline.oncall.tests.helpers import backup_clinician, shift

NIGHT = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)  # 03:00 in Chicago
pytestmark = pytest.mark.clock(NIGHT)
SYSTEM = Actor.system("test")


@pytest.fixture
def on_call(personas, clock):
    personas.clinician_a.mobile = "+13125550166"
    personas.clinician_a.save(update_fields=["mobile"])
    backup = backup_clinician(personas)
    return shift(
        personas.location_a,
        personas.clinician_a,
        NIGHT - timedelta(hours=6),
        NIGHT + timedelta(hours=6),
        backup,
    )


_capture: list[Any] = []


@pytest.fixture(autouse=True)
def _after_commit(django_capture_on_commit_callbacks):
    """Notices leave after commit: run those callbacks as the test's writes happen."""
    _capture[:] = [django_capture_on_commit_callbacks]


def _page(personas, link="/inbox/41"):
    with _capture[0](execute=True):
        return page_on_call(location=personas.location_a, reason="urgent-text", link_path=link, actor=SYSTEM)


def _escalate() -> int:
    with _capture[0](execute=True):
        return pages_escalate_due()


def test_the_clinician_on_call_gets_a_text_and_an_email_with_a_link_and_no_patient_detail(personas, on_call):
    page = _page(personas)
    notices = list(PageNotice.objects.filter(page=page).order_by("medium"))
    assert [(n.medium, n.to_address, n.role, n.state) for n in notices] == [
        (NoticeMedium.EMAIL, personas.clinician_a.email, "clinician", NoticeState.SENT),
        (NoticeMedium.SMS, "+13125550166", "clinician", NoticeState.SENT),
    ]
    [email] = mail.outbox
    assert email.to == [personas.clinician_a.email]
    for body in [email.body, email.subject] + [n.body for n in notices]:
        assert f"/on-call/pages/{page.pk}" in body or body == email.subject
        for detail in ("Pat", "Ortega", "MRN", "+13125550111", "/inbox/41", "chest"):
            assert detail not in body
    assert "Northside Clinic" in notices[0].body and "urgent text" in notices[0].body
    assert page.state == PageState.PAGED and page.clinician == personas.clinician_a
    assert page.escalate_at == NIGHT + timedelta(minutes=15)


def test_the_backup_is_paged_after_fifteen_minutes_without_acknowledgement(personas, on_call, clock):
    page = _page(personas)
    clock.move_to(NIGHT + timedelta(minutes=14, seconds=59))
    assert _escalate() == 0
    clock.move_to(NIGHT + timedelta(minutes=15))
    assert _escalate() == 1
    assert _escalate() == 0  # a second sweep finds nothing to claim
    page.refresh_from_db()
    assert page.state == PageState.ESCALATED
    told = PageNotice.objects.filter(page=page, role="backup")
    assert {(n.recipient, n.medium) for n in told} == {
        (on_call.backup, NoticeMedium.SMS),
        (on_call.backup, NoticeMedium.EMAIL),
    }
    assert "not acknowledged in 15 minutes" in told.first().body


def test_the_acknowledgement_window_is_a_setting(personas, on_call, clock, settings):
    settings.CARELINE_ONCALL_ACK_MINUTES = 5
    _page(personas)
    clock.move_to(NIGHT + timedelta(minutes=5))
    assert _escalate() == 1


def test_an_acknowledged_page_is_never_sent_to_the_backup(personas, on_call, clock):
    page = _page(personas)
    clock.move_to(NIGHT + timedelta(minutes=3))
    assert page_acknowledge(page=page, actor=Actor.staff(personas.clinician_a)) is True
    assert page_acknowledge(page=page, actor=Actor.staff(personas.clinician_a)) is False
    clock.move_to(NIGHT + timedelta(minutes=30))
    assert _escalate() == 0
    page.refresh_from_db()
    assert page.state == PageState.ACKNOWLEDGED and page.acknowledged_by == personas.clinician_a
    assert not PageNotice.objects.filter(page=page, role="backup").exists()


def test_front_desk_and_other_locations_cannot_acknowledge(personas, on_call):
    page = _page(personas)
    with pytest.raises(PermissionError):
        page_acknowledge(page=page, actor=Actor.staff(personas.front_a))
    page.refresh_from_db()
    assert page.acknowledged_at is None


def test_without_a_backup_the_administrators_are_told_when_nobody_acknowledges(personas, on_call, clock):
    on_call.backup = None
    on_call.save()
    page = _page(personas)
    clock.move_to(NIGHT + timedelta(minutes=16))
    assert _escalate() == 1
    assert set(
        PageNotice.objects.filter(page=page, role="administrator-escalated").values_list(
            "recipient", flat=True
        )
    ) == {personas.admin.pk}


def test_nobody_on_call_tells_the_locations_administrators_and_the_page_says_so(personas, clock, client_for):
    page = _page(personas)
    assert page.state == PageState.UNCOVERED and page.clinician is None and page.escalate_at is None
    [email] = mail.outbox
    assert email.to == [personas.admin.email] and "nobody is on call" in email.body
    response = client_for(personas.admin).get(f"/on-call/pages/{page.pk}")
    assert "Nobody was on call" in response.content.decode()


def test_the_same_open_page_is_not_repeated_within_the_hour(personas, on_call, clock):
    first = _page(personas)
    clock.move_to(NIGHT + timedelta(minutes=10))
    assert _page(personas) == first
    assert _page(personas, link="/inbox/42") != first
    assert Page.objects.count() == 2


@pytest.mark.parametrize("link", ["https://evil.example/x", "//evil.example", "inbox/1", ""])
def test_a_link_outside_careline_is_refused_and_nothing_is_stored(personas, on_call, link):
    with pytest.raises(PageRefused):
        page_on_call(location=personas.location_a, reason="urgent-text", link_path=link, actor=SYSTEM)
    assert not Page.objects.exists()


def test_without_a_staff_mobile_the_page_goes_by_email_only(personas, on_call):
    personas.clinician_a.mobile = ""
    personas.clinician_a.save(update_fields=["mobile"])
    page = _page(personas)
    assert list(PageNotice.objects.filter(page=page).values_list("medium", flat=True)) == [NoticeMedium.EMAIL]
