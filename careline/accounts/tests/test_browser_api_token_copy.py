"""In a real browser: the new token's Copy button puts the whole token on the clipboard, and the page fits a phone."""

from __future__ import annotations

import pytest

from careline.testing.browser import DESKTOP, PHONE, browser_sideways_overflow, browser_sign_in_with_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_copy_puts_the_new_token_on_the_clipboard(browser_context, live_server, personas, viewport):
    browser_context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = browser_context.new_page()
    page.set_viewport_size(viewport)
    browser_sign_in_with_code(page, live_server.url, personas.admin)
    page.goto(f"{live_server.url}/accounts/api-tokens")
    page.get_by_label("Acts as").select_option(label=str(personas.front_a))
    page.get_by_label("Name").fill("EHR sync")
    page.get_by_role("button", name="Create token").click()
    token = page.get_by_label("Token", exact=True).input_value()
    assert token
    page.get_by_role("button", name="Copy", exact=True).click()
    page.get_by_role("status").filter(has_text="Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == token
    assert browser_sideways_overflow(page) <= 0, "the page scrolls sideways"
