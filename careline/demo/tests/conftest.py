"""Browser-test fixtures: a headless Debian Chromium page, with a screenshot kept when a test fails."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


def wait_for_other_db_sessions_to_end(timeout: float = 10.0) -> None:
    """On PostgreSQL, wait until no other session uses the test database (a worker process that just exited,
    a live-server request thread that is closing): dropping it sooner fails with "being accessed by other
    users". Polls with a deadline; gives up silently, since the drop then reports the culprit itself."""
    if connection.vendor != "postgresql":
        return
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            row = cursor.fetchone()
            if row is None or row[0] == 0:
                return
            time.sleep(0.05)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome: Any = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def browser_page(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A Playwright page in headless Chromium; on failure its screenshot goes to <VAR_DIR>/screenshots."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            report = getattr(request.node, "rep_call", None)
            if report is not None and report.failed:
                folder = Path(settings.VAR_DIR) / "screenshots"
                folder.mkdir(parents=True, exist_ok=True)
                name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)[-150:]
                page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
            context.close()
            browser.close()
            # ORM calls made while Playwright's loop runs use a connection of their own (Django keeps one per
            # async context); pytest-django never sees it, so close it here or the test database cannot be
            # dropped. Then let the live server's request threads finish closing theirs.
            connection.close()
            wait_for_other_db_sessions_to_end()
            connection.close()
