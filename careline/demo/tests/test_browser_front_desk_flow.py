"""A whole shift in a real browser: two-factor sign-in, find a patient by phone, add a note, see it at handoff."""

from __future__ import annotations

import re

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from careline.patients.models import CareNote
from careline.testing.browser import HOME_URL, browser_submit_credentials

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _current_code(device: TOTPDevice) -> str:
    """The code an authenticator app would show now for DEVICE."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def _sign_in_with_code(page, live_server, user) -> None:
    browser_submit_credentials(page, live_server.url, user)
    page.wait_for_url(re.compile(r"/accounts/mfa/verify"))
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    page.get_by_label("Code from your authenticator app").fill(_current_code(device))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(HOME_URL)


def test_admin_finds_a_patient_by_phone_adds_a_note_and_sees_it_at_handoff(
    browser_page, live_server, personas
):
    page = browser_page
    _sign_in_with_code(page, live_server, personas.admin)
    page.get_by_role("heading", name="Patients").wait_for()

    # Stored as +13125550111; typed the way people write it.
    page.get_by_label("Search patients").fill("312.555.0111")
    page.get_by_label("Search patients").press("Enter")
    results = page.get_by_role("region", name="Search results")
    results.get_by_role("link", name="Ortega, Patricia").click()
    page.wait_for_url(re.compile(rf"/patients/{personas.pat.pk}$"))

    text = "Pharmacy called back: refill ready Thursday after 2 pm."
    page.get_by_label("Kind of note").select_option("handoff")
    page.get_by_label("Note:", exact=True).fill(text)
    page.get_by_role("button", name="Add note").click()
    page.locator("#notes-panel").get_by_text(text).wait_for()
    assert CareNote.objects.filter(patient=personas.pat, text=text, author=personas.admin).count() == 1

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Handoff").click()
    page.get_by_label("Location").select_option(label=personas.location_a.name)
    page.get_by_role("button", name="Show notes").click()
    row = page.get_by_role("row").filter(has_text=text)
    row.wait_for()
    assert "Pat Ortega" in row.inner_text()


def test_a_wrong_code_keeps_the_admin_out(browser_page, live_server, personas):
    page = browser_page
    browser_submit_credentials(page, live_server.url, personas.admin)
    page.wait_for_url(re.compile(r"/accounts/mfa/verify"))
    device = TOTPDevice.objects.get(user=personas.admin, confirmed=True)
    wrong = f"{(int(_current_code(device)) + 1) % 10**6:06d}"
    page.get_by_label("Code from your authenticator app").fill(wrong)
    page.get_by_role("button", name="Continue").click()
    page.get_by_text("That code is not right").wait_for()
    page.goto(f"{live_server.url}/")
    assert "/accounts/" in page.url  # still not signed in: sent back to sign-in
