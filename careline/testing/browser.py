"""Browser-test fixtures: headless Debian Chromium through Playwright, a screenshot kept when a test fails,
and signing in through the real sign-in page. careline/conftest.py exposes the fixtures and the hook."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection, connections

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


class SessionBrowser:
    """One Playwright driver and one Chromium for a run of consecutive browser tests (each test still gets a
    context of its own: its own cookies, storage, permissions and init scripts).

    Launching them costs seconds per test; they start at the first browser test and stop after the last of a
    run (SessionBrowserPlugin orders browser tests last). While Playwright's event loop runs, Django
    sees an event loop in this thread: the ORM needs DJANGO_ALLOW_ASYNC_UNSAFE and uses a connection of its
    own (Django keeps one per async context), so no other test may run meanwhile, and that connection is
    closed before the loop stops.
    """

    def __init__(self) -> None:
        self.playwright: Any = None
        self.browser: Any = None
        self.launches = 0
        self.served = 0
        self.keep = False  # whether the next test uses the browser too (set before each test)
        self._async_unsafe: str | None = None

    def get(self) -> Any:
        if self.browser is not None and not self.browser.is_connected():
            self.stop()
        if self.browser is None:
            from playwright.sync_api import sync_playwright

            # Connections opened before the loop runs are not the ones used while it does: close them (unless
            # a test transaction holds one, which a transactional browser test never has).
            if not connection.in_atomic_block:
                connections.close_all()
            self._async_unsafe = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
            # Playwright's sync API runs an event loop in this thread; the tests' ORM calls are still synchronous.
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
            self.playwright = sync_playwright().start()
            self.browser = self.playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            self.launches += 1
        self.served += 1
        return self.browser

    @property
    def running(self) -> bool:
        return self.playwright is not None

    def stop(self) -> None:
        if self.playwright is None:
            return
        try:
            if self.browser is not None and self.browser.is_connected():
                self.browser.close()
        finally:
            # The connection ORM calls used while the loop ran (see the class's note), then any other left open.
            connections.close_all()
            self.playwright.stop()
            self.playwright = self.browser = None
            if self._async_unsafe is None:
                os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
            else:
                os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = self._async_unsafe
            connections.close_all()

    def summary(self) -> str:
        return f"browser tests: {self.served} served by {self.launches} Chromium launch(es)"


SESSION_BROWSER = SessionBrowser()
BROWSER_FIXTURES = frozenset({"browser_context", "browser_page"})


def uses_browser(item: pytest.Item) -> bool:
    return bool(BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())))


class SessionBrowserPlugin:
    """The hooks of SESSION_BROWSER, registered by careline/conftest.py."""

    @pytest.hookimpl(trylast=True)  # after pytest-django has put transactional tests last
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Browser tests after all others (they are transactional, which pytest-django already runs last), so
        one Chromium serves them all; the order among the others, and among the browser tests, stays."""
        items.sort(key=uses_browser)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> Any:
        """Tell `browser_context` whether the next test uses the browser too (if not, it stops the browser)."""
        SESSION_BROWSER.keep = nextitem is not None and uses_browser(nextitem)
        try:
            return (yield)
        finally:
            if not SESSION_BROWSER.keep:
                SESSION_BROWSER.stop()

    def pytest_sessionfinish(self) -> None:
        SESSION_BROWSER.stop()

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if SESSION_BROWSER.launches:
            terminalreporter.write_line(SESSION_BROWSER.summary())


@pytest.fixture
def browser_context(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A headless Chromium context of its own (its pages share cookies) in the session's browser; on failure
    each page's screenshot goes to <VAR_DIR>/screenshots."""
    browser = SESSION_BROWSER.get()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    try:
        yield context
    finally:
        report = getattr(request.node, "rep_call", None)
        try:
            if report is not None and report.failed:
                _save_screenshots(request, list(context.pages))
        finally:
            context.close()
            if not SESSION_BROWSER.keep:
                # Stopped before the test database is flushed, which then runs with no event loop, as usual.
                SESSION_BROWSER.stop()
            # ORM calls made while Playwright's loop runs use a connection of their own (Django keeps one per
            # async context); close it, then let the live server's request threads finish closing theirs.
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


# Controls a person must reach that lie (partly) beyond the window's right edge, or beyond the right edge of a
# box that scrolls or clips them sideways (a table in `.table-wrap`): the page itself may fit its window
# while a worklist's buttons sit off to the side of the table's scroller.
_CONTROLS_OUT_OF_VIEW = """() => {
  const out = [];
  const visibleRight = document.documentElement.clientWidth;
  const controls = document.querySelectorAll(
    "main button, main a[href], main select, main input:not([type=hidden]), main textarea, main summary");
  for (const control of controls) {
    const box = control.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;  // not shown (a closed <details>, display: none)
    let right = visibleRight;
    for (let parent = control.parentElement; parent; parent = parent.parentElement) {
      if (getComputedStyle(parent).overflowX !== "visible") {
        right = Math.min(right, parent.getBoundingClientRect().right);
      }
    }
    if (box.right > right + 1) {
      const name = (control.textContent || control.getAttribute("aria-label") || control.name || "").trim();
      const label = name.replace(/\\s+/g, " ").slice(0, 40);
      out.push(`${control.tagName.toLowerCase()} "${label}" (right edge at ${Math.round(box.right)}px, ` +
        `view ends at ${Math.round(right)}px)`);
    }
  }
  return out;
}"""


def browser_controls_out_of_view(page: Any) -> list[str]:
    """The buttons, links and fields of PAGE's main content that stick out to the right of the window or of
    the box that scrolls them sideways (empty when every control can be seen without scrolling sideways)."""
    found: list[str] = page.evaluate(_CONTROLS_OUT_OF_VIEW)
    return found


# A phone (390 x 844) and a wide desktop: every staff page fits both without sideways scrolling.
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
