"""At a phone's size (390 x 844) the waitlist's and the visit requests' rows are cards: their actions (remove;
book, decline) are on screen, not off to the side of a table that scrolls."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from careline.scheduling.models import VisitRequest, WaitlistEntry
from careline.scheduling.tests.appointment_support import make_schedule
from careline.testing.accessibility import PHONE_VIEWPORT
from careline.testing.browser import browser_controls_out_of_view, browser_sideways_overflow, browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_waitlist_and_visit_requests_keep_their_actions_on_a_phone(
    browser_page: Any, live_server: Any, personas: Any
) -> None:
    schedule = make_schedule(personas)
    WaitlistEntry.objects.create(
        patient=personas.pat, appointment_type=schedule.checkup, created_by=personas.front_a
    )
    VisitRequest.objects.create(
        patient=personas.pat, appointment_type=schedule.checkup, location=personas.location_a,
        reason="Follow-up on the knee, mornings are best",
    )  # fmt: skip
    page = browser_page
    page.set_viewport_size(PHONE_VIEWPORT)
    browser_sign_in(page, live_server.url, personas.front_a)
    for name, action in (("scheduling:waitlist", "Remove"), ("scheduling:visit_requests", "Decline")):
        page.goto(f"{live_server.url}{reverse(name)}")
        page.wait_for_load_state("networkidle")
        page.get_by_role("button", name=action).first.wait_for()
        assert browser_sideways_overflow(page) == 0, name
        assert browser_controls_out_of_view(page) == [], name
