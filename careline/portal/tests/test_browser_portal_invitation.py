"""In a real browser: the front desk invites Pat from the patient page, the text reaches the phone simulator,
Pat opens its link, proves who they are, sets a password and lands Home; then, signed out, signs in again with
a code texted to the same phone."""

from __future__ import annotations

import re
from datetime import time
from typing import Any

import pytest

from careline.portal.models import PortalAccount
from careline.testing.browser import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "marigold umbrella 1980 lantern"


@pytest.fixture(autouse=True)
def texting_all_day(settings: Any, live_server: Any) -> None:
    # Invitations are automated texts, held in quiet hours: let them go whatever the hour the test runs.
    settings.CARELINE_TEXTING_WINDOW = (time(0, 0), time.max)
    settings.PUBLIC_BASE_URL = live_server.url


def _phone_shows(phone: Any, words: str) -> str:
    """Wait for the simulator's screen to show WORDS; the screen's whole text.

    The screen is read afresh once the page has finished the navigation its "Open phone" form started:
    reloading a page still mid-navigation detaches it."""
    phone.wait_for_url(re.compile(r"[?&]number="))
    phone.wait_for_load_state("load")
    phone.goto(phone.url)
    phone.locator("#screen").get_by_text(words, exact=False).last.wait_for()
    return str(phone.locator("#screen").inner_text())


def test_invited_by_text_the_patient_signs_up_then_signs_in_with_a_code(
    browser_context: Any, live_server: Any, personas: Any
) -> None:
    from careline.messaging.services.channels import simulator_channel

    simulator_channel()

    staff = browser_context.new_page()
    browser_sign_in(staff, live_server.url, personas.front_a)
    staff.goto(f"{live_server.url}/patients/{personas.pat.pk}")
    card = staff.locator("section", has=staff.get_by_role("heading", name="Patient portal"))
    card.get_by_text("Not invited").wait_for()
    card.get_by_label("Send by").select_option(label="Text message")
    card.get_by_role("button", name="Invite to the portal").click()
    staff.get_by_text("Invitation sent by text message").wait_for()

    phone = browser_context.new_page()
    phone.goto(f"{live_server.url}/inbox/simulator")
    phone.get_by_label("Patient's number").fill("(312) 555-0111")
    phone.get_by_role("button", name="Open phone").click()
    screen = _phone_shows(phone, "create your patient portal account")
    link = re.search(r"(https?://\S+/portal/invite/[\w-]+/)", screen)
    assert link, screen

    # The patient's own phone browser: a separate context (no staff session in it).
    patient_context = browser_context.browser.new_context(viewport={"width": 390, "height": 844})
    patient_context.set_default_timeout(15_000)
    try:
        patient = patient_context.new_page()
        patient.goto(link.group(1))
        patient.get_by_label("Date of birth").fill("1980-04-12")
        patient.get_by_label("Last name").fill("ortega")
        patient.get_by_role("button", name="Continue").click()
        patient.get_by_role("heading", name="Welcome, Pat").wait_for()
        assert patient.get_by_label("Email or mobile number to sign in with").input_value() in (
            "+13125550111",
            "(312) 555-0111",
        )
        patient.locator("#id_password1").fill(PASSWORD)
        patient.locator("#id_password2").fill(PASSWORD)
        patient.get_by_role("button", name="Create my account").click()
        patient.get_by_text("Hello, Pat").wait_for()
        assert PortalAccount.objects.get(patient=personas.pat).phone == "+13125550111"

        patient.get_by_role("button", name="Sign out").click()
        patient.get_by_role("link", name="Sign in with a code instead").click()
        patient.get_by_label("Email or mobile number").fill("312-555-0111")
        patient.get_by_role("button", name="Send me a code").click()
        patient.get_by_role("heading", name="Enter your code").wait_for()

        screen = _phone_shows(phone, "your patient portal code is")
        code = re.findall(r"portal code is (\d{6})", screen)[-1]
        patient.locator("#id_code").fill(code)
        patient.get_by_role("button", name="Continue").click()
        patient.get_by_text("Hello, Pat").wait_for()
        overflow = patient.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
    finally:
        patient_context.close()
