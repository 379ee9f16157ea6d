"""In a real browser: the inbox list loads more rows in place, flags a row without leaving the list, picks up
a patient's new text through its poll (no reload), and fits a phone's width."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from careline.messaging.models import Conversation
from careline.messaging.services.channels import simulator_channel
from careline.messaging.services.simulator import simulator_inbound
from careline.testing.browser import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _many(count: int, location: Any) -> None:
    channel = simulator_channel()
    now = timezone.now()
    Conversation.objects.bulk_create(
        Conversation(
            channel=channel,
            contact=f"+1312555{3000 + i:04d}",
            location=location,
            last_message_at=now - timedelta(minutes=i + 5),
            last_patient_message_at=now - timedelta(minutes=i + 5),
            last_patient_preview=f"question number {i}",
        )
        for i in range(count)
    )


def test_the_list_pages_flags_and_updates_in_place(
    browser_context: Any, live_server: Any, personas: Any
) -> None:
    _many(55, personas.location_a)
    page = browser_context.new_page()
    browser_sign_in(page, live_server.url, personas.front_a)
    page.goto(f"{live_server.url}/inbox/")
    rows = page.locator("#inbox-rows > li")
    assert rows.count() == 50
    page.evaluate("window.__careline_not_reloaded = true")

    page.get_by_role("link", name="Show more conversations").click()
    page.get_by_text("That is every conversation that matches.").wait_for()
    assert rows.count() == 55

    first = rows.first
    first.get_by_role("button", name="Flag").click()
    page.locator("#inbox-rows > li").first.get_by_role("button", name="Unflag").wait_for()
    assert Conversation.objects.filter(flagged=True).count() == 1

    simulator_inbound(channel=simulator_channel(), from_number="+13125550111", body="Is parking free?")
    page.locator("#inbox-rows > li").first.get_by_text("Is parking free?").wait_for(timeout=15_000)
    page.locator("#nav-badge-inbox").get_by_text("1").wait_for(timeout=5_000)
    assert rows.count() == 56  # the rows loaded by "Show more" stay, the new one above them
    assert page.evaluate("window.__careline_not_reloaded") is True

    if os.environ.get("CARELINE_SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["CARELINE_SCREENSHOTS"], "inbox-desktop.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/inbox/")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    if os.environ.get("CARELINE_SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["CARELINE_SCREENSHOTS"], "inbox-phone.png"))
