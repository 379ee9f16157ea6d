"""In a real browser: the help chat after hours shows FAQ answers and, for "chest pain", the emergency guidance
(without a reload, and accessible on a phone); a secure message reaches the staff inbox and the patient reads
the reply."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine

from careline.portal.models import FaqEntry, UrgentPhrase
from careline.testing.accessibility import serious_axe_violations
from careline.testing.browser import PHONE, browser_sideways_overflow, browser_sign_in
from careline.testing.portal import PORTAL_PASSWORD, browser_portal_trust_email, portal_account_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NIGHT_CHICAGO = datetime(2026, 3, 5, 3, 30, tzinfo=UTC)  # Wednesday 21:30 in Chicago: Pat's clinic is closed


def _portal_sign_in(page: Any, base_url: str, email: str) -> None:
    browser_portal_trust_email(page, base_url, email)  # a trusted browser: no one-time code asked
    page.goto(f"{base_url}/portal/signin/")
    page.get_by_label("Email or mobile number").fill(email)
    page.get_by_label("Password").fill(PORTAL_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/portal/")


def test_the_help_chat_after_hours_answers_from_the_faq_and_shows_emergency_guidance(
    browser_context, live_server, personas
):
    FaqEntry.objects.create(
        question="Where can I park?", answer="Free parking behind the building.", keywords="parking, car"
    )
    # The seeded phrases come from a data migration, which an earlier transactional test's flush empties.
    UrgentPhrase.objects.get_or_create(phrase="chest pain", language="en")
    account = portal_account_for(personas.pat)
    with time_machine.travel(NIGHT_CHICAGO, tick=True):
        page = browser_context.new_page()
        page.set_viewport_size(PHONE)
        _portal_sign_in(page, live_server.url, account.email)
        page.locator(".portal-help-button").click()
        page.get_by_role("heading", name="Help, at any hour").wait_for()
        page.evaluate("window.__not_reloaded = true")

        page.get_by_label("How can we help?").fill("where can I park my car")
        page.get_by_role("button", name="Send").click()
        page.get_by_text("Free parking behind the building.").first.wait_for()
        page.get_by_text("The care team will reply when it opens").first.wait_for()

        page.get_by_label("How can we help?").fill("I have chest pain")
        page.get_by_role("button", name="Send").click()
        alert = page.get_by_role("alert")
        alert.get_by_text("call 911 now").wait_for(timeout=30_000)  # the answer flags, tags and notes first
        assert alert.get_by_role("link", name="Call 911").get_attribute("href") == "tel:911"
        assert alert.get_by_role("link", name="Text 988").get_attribute("href") == "sms:988"
        assert page.evaluate("window.__not_reloaded === true")  # answered in place by help_chat.js

        assert serious_axe_violations(page) == []
        assert browser_sideways_overflow(page) == 0


def test_a_secure_message_reaches_the_inbox_and_the_patient_reads_the_reply(
    browser_context, live_server, personas
):
    account = portal_account_for(personas.pat)
    patient = browser_context.new_page()
    _portal_sign_in(patient, live_server.url, account.email)
    patient.get_by_role("link", name="Messages", exact=True).first.click()
    patient.get_by_label("Your message").fill("Could you send me a letter for my employer?")
    patient.get_by_role("button", name="Send").click()
    patient.get_by_text("Your message was sent to the care team.").wait_for()

    # Staff work in a browser of their own (a staff sign-in ends a portal session in the same browser).
    staff_context = browser_context.browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        staff = staff_context.new_page()
        browser_sign_in(staff, live_server.url, personas.front_a)
        staff.goto(f"{live_server.url}/inbox/")
        staff.get_by_text("Could you send me a letter for my employer?").first.click()
        staff.get_by_role("heading", name="Portal messages with Pat Ortega").wait_for()
        staff.get_by_label("Message", exact=True).fill("The letter is ready at the front desk.")
        staff.get_by_role("button", name="Send text").click()
        staff.locator("#thread").get_by_text("The letter is ready at the front desk.").wait_for()
    finally:
        staff_context.close()

    patient.goto(f"{live_server.url}/portal/")
    patient.get_by_text("You have 1 unread message from your care team.").wait_for()
    patient.get_by_role("link", name="Open messages").click()
    patient.get_by_role("link", name="Your care team").click()
    patient.get_by_text("The letter is ready at the front desk.").wait_for()
    assert serious_axe_violations(patient) == []


def test_the_help_chat_admin_pages_are_accessible_and_fit_a_phone(browser_context, live_server, personas):
    from careline.testing.browser import browser_sign_in_with_code

    FaqEntry.objects.create(question="Where can I park?", answer="Free parking behind the building.")
    page = browser_context.new_page()
    browser_sign_in_with_code(page, live_server.url, personas.admin)
    for path in ("/portal-admin/faq/", "/portal-admin/faq/new", "/portal-admin/urgent-words/"):
        for size in ({"width": 1440, "height": 900}, PHONE):
            page.set_viewport_size(size)
            page.goto(f"{live_server.url}{path}")
            assert serious_axe_violations(page) == [], path
            assert browser_sideways_overflow(page) == 0, (path, size)
