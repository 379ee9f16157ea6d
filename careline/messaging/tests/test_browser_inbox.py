"""In a real browser: staff text a patient from the inbox, the text shows on the phone simulator, the patient
answers from the simulator, and the answer appears in the open conversation without a reload."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest

from careline.messaging.models import Message, MessageState
from careline.testing.browser import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def texting_all_day(settings: Any) -> None:
    # The staff text opens the conversation, so quiet hours would hold it at night: let it go at any hour.
    settings.CARELINE_TEXTING_WINDOW = (time(0, 0), time.max)


def test_staff_text_reaches_the_simulator_and_the_answer_appears_without_reload(
    browser_context, live_server, personas
):
    from celery import current_app

    assert current_app.conf.task_always_eager  # the conftest's eager Celery also covers live_server threads

    staff = browser_context.new_page()
    browser_sign_in(staff, live_server.url, personas.front_a)

    # "New message" from the patient's record lands in the inbox conversation.
    staff.goto(f"{live_server.url}/patients/{personas.pat.pk}")
    staff.get_by_role("button", name="Text patient").click()
    staff.get_by_role("heading", name="Texts with Pat Ortega").wait_for()
    staff.get_by_label("Message", exact=True).fill("Hi Pat, your forms are ready to pick up.")
    staff.locator("#segment-counter").filter(has_text="1 segment · GSM-7 · 120 left").wait_for()
    staff.get_by_role("button", name="Send text").click()
    staff.locator("#thread").get_by_text("Hi Pat, your forms are ready to pick up.").wait_for()
    staff.locator("#thread [data-state='delivered']").wait_for()
    sent = Message.objects.get(direction="out")
    assert sent.state == MessageState.DELIVERED
    assert sent.author == personas.front_a

    staff.evaluate("window.__careline_not_reloaded = true")

    phone = browser_context.new_page()
    phone.goto(f"{live_server.url}/inbox/simulator")
    phone.get_by_label("Patient's number").fill("(312) 555-0111")
    phone.get_by_role("button", name="Open phone").click()
    phone.locator("#screen").get_by_text("Hi Pat, your forms are ready to pick up.").wait_for()
    phone.get_by_label("Answer as the patient").fill("Great, I will come by at 4.")
    phone.get_by_role("button", name="Send from phone").click()
    phone.locator("#screen").get_by_text("Great, I will come by at 4.").wait_for()

    # The staff page polls: the answer shows up on its own, in the same page (no navigation happened).
    staff.bring_to_front()
    staff.locator("#thread .bubble.in").filter(has_text="Great, I will come by at 4.").wait_for(
        timeout=15_000
    )
    assert staff.evaluate("window.__careline_not_reloaded === true")
    inbound = Message.objects.get(direction="in")
    assert inbound.patient == personas.pat
    assert inbound.body == "Great, I will come by at 4."
