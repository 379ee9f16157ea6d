"""In a real browser: the new token's Copy button puts the whole token on the clipboard, and the page fits a phone."""

from __future__ import annotations

import re

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from careline.testing.browser import HOME_URL, browser_submit_credentials

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in_admin(page, base_url, admin):
    browser_submit_credentials(page, base_url, admin)
    page.wait_for_url(re.compile(r"/accounts/mfa/verify"))
    device = TOTPDevice.objects.get(user=admin, confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    page.get_by_label("Code from your authenticator app").fill(f"{totp.token():0{device.digits}d}")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(HOME_URL)


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, {"width": 390, "height": 844}])
def test_copy_puts_the_new_token_on_the_clipboard(browser_context, live_server, personas, viewport):
    browser_context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = browser_context.new_page()
    page.set_viewport_size(viewport)
    _sign_in_admin(page, live_server.url, personas.admin)
    page.goto(f"{live_server.url}/accounts/api-tokens")
    page.get_by_label("Acts as").select_option(label=str(personas.front_a))
    page.get_by_label("Name").fill("EHR sync")
    page.get_by_role("button", name="Create token").click()
    token = page.get_by_label("Token", exact=True).input_value()
    assert token
    page.get_by_role("button", name="Copy", exact=True).click()
    page.get_by_role("status").filter(has_text="Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == token
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, "the page scrolls sideways"
