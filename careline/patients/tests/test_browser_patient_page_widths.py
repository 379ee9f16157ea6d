"""In a real browser, the patient page fits a phone and a wide desktop: no sideways scrolling, even with a
long email and address, and the details list wraps into columns where there is room."""

from __future__ import annotations

import pytest

from careline.patients.models import Patient
from careline.testing.browser import DESKTOP, PHONE, browser_sideways_overflow, browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG_EMAIL = "patricia.ortega-hernandez.with.a.very.long.address@subdomain.example-clinic.test"


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_patient_page_fits_the_window(browser_page, live_server, personas, viewport):
    Patient.objects.filter(pk=personas.pat.pk).update(
        email=LONG_EMAIL,
        address_line1="12345 North Extraordinarily Long Boulevard Name, Building C, Apartment 1234",
        city="Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch",
    )
    page = browser_page
    page.set_viewport_size(viewport)
    browser_sign_in(page, live_server.url, personas.front_a)
    page.goto(f"{live_server.url}/patients/{personas.pat.pk}")
    page.get_by_role("heading", name="Details").wait_for()
    assert browser_sideways_overflow(page) <= 0, "the patient page scrolls sideways"
    email = page.get_by_role("link", name=LONG_EMAIL)
    card = page.locator("section.card", has=page.get_by_role("heading", name="Details"))
    email_box, card_box = email.bounding_box(), card.bounding_box()
    assert email_box["x"] + email_box["width"] <= card_box["x"] + card_box["width"] + 1, "the email overflows"
    # Label above value, pairs side by side where there is room: one column on a phone, several on a desktop.
    lefts = {
        round(box["x"]) for box in (dt.bounding_box() for dt in page.locator("dl.details-list dt").all())
    }
    assert (len(lefts) == 1) if viewport is PHONE else (len(lefts) >= 3)
