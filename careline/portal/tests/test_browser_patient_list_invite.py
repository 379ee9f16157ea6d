"""In a real browser, the patient list's "Invite these patients to the portal" follows the search box as it
changes (HTMX swaps it with the results) and opens the bulk page on that search; the list stays accessible and
fits a phone with the action shown."""

from __future__ import annotations

import pytest
from django.urls import reverse

from careline.testing.accessibility import PHONE_VIEWPORT, horizontal_overflow, serious_axe_violations
from careline.testing.browser import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_invite_action_follows_the_search_and_opens_the_bulk_page(browser_page, live_server, personas):
    page = browser_page
    page.set_viewport_size(PHONE_VIEWPORT)
    browser_sign_in(page, live_server.url, personas.front_a)
    page.goto(f"{live_server.url}{reverse('patients:list')}")
    page.get_by_label("Search patients").fill("ortega")
    action = page.get_by_role("link", name="Invite these patients to the portal")
    page.wait_for_function(
        "() => (document.querySelector('[data-list-action=\"portal-invite\"]') || {}).href?.endsWith('?q=ortega')"
    )
    assert serious_axe_violations(page) == []
    assert horizontal_overflow(page) is None
    action.click()
    page.get_by_role("heading", name="Invite patients to the portal").wait_for()
    assert page.get_by_label("Search patients").input_value() == "ortega"
    assert page.get_by_role("heading", name="1 patient without a portal account").is_visible()
