"""In a real browser, the audit trail fits a phone and a desktop: the table is never wider than the page, and
on a phone each entry is a stacked card."""

from __future__ import annotations

import pytest

from careline.core.actor import Actor
from careline.core.audit import audit_record
from careline.core.models import AuditAction
from careline.testing.browser import DESKTOP, PHONE, browser_sideways_overflow, browser_sign_in_with_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_audit_trail_fits_the_window(browser_page, live_server, personas, viewport):
    for _ in range(5):
        audit_record(
            action=AuditAction.VIEW,
            actor=Actor.staff(personas.front_a),
            object_type="messaging.conversation",
            object_id=42,
            patient_id=personas.pat.pk,
            detail="inbox list: status=open; assigned=anyone; text=" + "x" * 120 + "; results=25+",
        )
    page = browser_page
    page.set_viewport_size(viewport)
    browser_sign_in_with_code(page, live_server.url, personas.admin)
    page.goto(f"{live_server.url}/audit/")
    page.locator("table.audit-table tbody tr").first.wait_for()
    assert browser_sideways_overflow(page) <= 0, "the audit trail scrolls sideways"
    table = page.locator("table.audit-table").bounding_box()
    main = page.locator("main").bounding_box()
    assert table["width"] <= main["width"]
    row_display = page.locator("table.audit-table tbody tr").first.evaluate(
        "row => getComputedStyle(row).display"
    )
    assert (row_display == "block") == (viewport is PHONE), "a phone shows each entry as a stacked card"
