"""Browser-test fixtures: headless Debian Chromium through Playwright, a screenshot kept when a test fails,
and signing in through the real sign-in page. careline/conftest.py exposes the fixtures and the hook."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from careline.testing.db import wait_for_other_db_sessions_to_end
from careline.testing.personas import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
HOME_URL = re.compile(r"^[^?]*/(\?.*)?$")  # the patient list, the page after sign-in


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each phase's report on the test item, so a fixture's teardown can tell whether the test failed."""
    outcome: Any = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def _save_screenshots(request: pytest.FixtureRequest, pages: list[Any]) -> None:
    folder = Path(settings.VAR_DIR) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)[-150:]
    for index, page in enumerate(pages):
        suffix = f"-{index}" if index else ""
        page.screenshot(path=str(folder / f"{name}{suffix}.png"), full_page=True)


@pytest.fixture
def browser_context(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A headless Chromium context (pages share cookies); on failure each page's screenshot goes to
    <VAR_DIR>/screenshots."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        try:
            yield context
        finally:
            report = getattr(request.node, "rep_call", None)
            if report is not None and report.failed:
                _save_screenshots(request, list(context.pages))
            context.close()
            browser.close()
            # ORM calls made while Playwright's loop runs use a connection of their own (Django keeps one per
            # async context); pytest-django never sees it, so close it here or the test database cannot be
            # dropped. Then let the live server's request threads finish closing theirs.
            connection.close()
            wait_for_other_db_sessions_to_end()
            connection.close()


@pytest.fixture
def browser_page(browser_context: Any) -> Any:
    """A page in `browser_context`."""
    return browser_context.new_page()


def browser_submit_credentials(page: Any, base_url: str, user: Any, password: str = PASSWORD) -> None:
    """Open the sign-in page and submit USER's email and password."""
    page.goto(f"{base_url}/accounts/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def browser_sign_in(page: Any, base_url: str, user: Any) -> None:
    """Sign USER (no second factor) in and wait for the page after sign-in."""
    browser_submit_credentials(page, base_url, user)
    page.wait_for_url(HOME_URL)


def browser_sign_in_with_code(page: Any, base_url: str, user: Any) -> None:
    """Sign USER (with a confirmed authenticator) in, giving the current code, and wait for the page after."""
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    browser_submit_credentials(page, base_url, user)
    page.wait_for_url(re.compile(r"/accounts/mfa/verify"))
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    page.get_by_label("Code from your authenticator app").fill(f"{totp.token():0{device.digits}d}")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(HOME_URL)


def browser_sideways_overflow(page: Any) -> int:
    """How many pixels the page scrolls sideways (0 when it fits its window)."""
    return int(page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth"))


# A phone (390 x 844) and a wide desktop: every staff page fits both without sideways scrolling.
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
