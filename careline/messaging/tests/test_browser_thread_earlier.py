"""In a real browser: a long thread opens at its newest text, and "Earlier messages" puts the older entries
above without moving what the reader was looking at, focus landing on the first entry loaded."""

from __future__ import annotations

import re
from datetime import time
from typing import Any

import pytest

from careline.messaging.queries.inbox import THREAD_PAGE
from careline.messaging.tests.inbox_support import PAT_NUMBER, texted_by
from careline.testing.browser import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def texting_all_day(settings: Any) -> None:
    settings.CARELINE_TEXTING_WINDOW = (time(0, 0), time.max)


def test_earlier_messages_load_above_and_keep_the_readers_place(browser_context, live_server, personas):
    for number in range(THREAD_PAGE + 10):
        conversation = texted_by(PAT_NUMBER, f"Patient question number {number}")

    page = browser_context.new_page()
    browser_sign_in(page, live_server.url, personas.front_a)
    page.goto(f"{live_server.url}/inbox/{conversation.pk}")
    thread = page.locator("#thread")
    thread.get_by_text(f"Patient question number {THREAD_PAGE + 9}").wait_for()
    assert thread.get_by_text("Patient question number 0", exact=True).count() == 0

    link = page.get_by_role("link", name="Earlier messages")
    link.scroll_into_view_if_needed()
    anchor = page.locator("#" + (thread.locator("li.bubble").first.get_attribute("id") or "missing"))
    before = anchor.bounding_box()
    link.click()
    thread.get_by_text("Patient question number 0", exact=True).wait_for(state="attached")
    page.wait_for_timeout(200)  # the settle after the swap
    after = anchor.bounding_box()
    assert before is not None and after is not None
    assert abs(after["y"] - before["y"]) < 5  # what the reader saw stays where it was
    assert page.get_by_role("link", name="Earlier messages").count() == 0  # nothing older left
    focused = page.evaluate("document.activeElement && document.activeElement.textContent")
    assert re.search(r"Patient question number \d+", focused or "")
