"""In a real browser, on a phone: a patient sees a released result and its trend (an unreleased one stays
hidden), and a caregiver of two patients switches between their records, each page saying whose it is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from careline.core.actor import Actor
from careline.portal.models import PortalSection
from careline.records.services.results import result_release
from careline.records.tests.support import result_for
from careline.testing.accessibility import PHONE_VIEWPORT, horizontal_overflow, serious_axe_violations
from careline.testing.portal import (
    PORTAL_PASSWORD,
    browser_portal_trust_email,
    portal_access_grant,
    portal_account_for,
    portal_caregiver_account,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page: Any, base_url: str, email: str | None, name: str) -> None:
    browser_portal_trust_email(page, base_url, email)  # a trusted browser: no one-time code asked
    page.goto(f"{base_url}/portal/signin/")
    page.get_by_label("Email or mobile number").fill(email or "")
    page.get_by_label("Password").fill(PORTAL_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name=f"Hello, {name}").wait_for()


def _check(page: Any, what: str) -> None:
    assert serious_axe_violations(page) == [], what
    assert horizontal_overflow(page) is None, what


def test_a_patient_sees_a_released_result_with_its_trend_and_not_a_held_one(
    browser_context: Any, live_server: Any, personas: Any
) -> None:
    clinician = Actor.staff(personas.clinician_a)
    now = datetime.now(tz=UTC)
    for weeks, value in ((12, "7.9"), (8, "7.4"), (4, "6.9")):
        moment = now - timedelta(weeks=weeks)
        result = result_for(
            personas.pat,
            personas.clinician_a,
            value=value,
            collected_at=moment,
            resulted_at=moment + timedelta(hours=3),
        )
        result_release(result=result, actor=clinician)
    held = result_for(
        personas.pat, personas.clinician_a, value="9.9", test_code="LDL", test_name="LDL cholesterol"
    )
    assert held.released_at is None
    account = portal_account_for(personas.pat)
    page = browser_context.new_page()
    page.set_viewport_size(PHONE_VIEWPORT)
    _sign_in(page, live_server.url, account.email, "Pat")

    page.get_by_role("link", name="Results").first.click()
    page.get_by_role("heading", name="Results").first.wait_for()
    assert "LDL" not in page.content()  # waiting for a clinician: not shown
    _check(page, "results")
    page.get_by_role("link", name="Hemoglobin A1c").first.click()
    page.get_by_role("heading", name="Over time").wait_for()
    chart = page.locator("svg").first
    assert chart.is_visible()
    assert page.locator("table tbody tr").count() == 3
    _check(page, "result with its trend")


def test_a_caregiver_switches_between_two_patients_records(
    browser_context: Any, live_server: Any, personas: Any
) -> None:
    account = portal_caregiver_account(
        personas.pat_caregiver, sections=[PortalSection.APPOINTMENTS, PortalSection.RESULTS]
    )
    other = personas.quinn.caregivers.create(name="Sam Ortega", relationship="brother")
    portal_access_grant(account, personas.quinn, sections=[PortalSection.APPOINTMENTS], caregiver=other)
    portal_account_for(personas.quinn, email="quinn@example.test")  # Quinn's own account changes nothing here
    page = browser_context.new_page()
    page.set_viewport_size(PHONE_VIEWPORT)
    _sign_in(page, live_server.url, account.email, account.display_name)
    page.get_by_text("You are viewing the record of Pat Ortega, as their caregiver.").wait_for()
    assert page.get_by_role("link", name="Results").count() >= 1
    _check(page, "caregiver home")

    page.get_by_label("Record of").select_option(label="Quinn Baker")
    page.get_by_role("button", name="Open").click()
    page.get_by_text("You are viewing the record of Quinn Baker, as their caregiver.").wait_for()
    assert page.get_by_role("link", name="Results").count() == 0  # not granted for Quinn
    page.goto(f"{live_server.url}/portal/results/")
    assert page.get_by_role("heading", name="We could not find that page").is_visible()
