"""In a real browser: a conversation opens beside the list with the patient next to it, Ctrl+Enter sends, and
on a phone (390x844) one pane shows at a time, the newest text and the reply box need no scrolling, the back
button returns to the list and nothing scrolls sideways."""

from __future__ import annotations

import re
from datetime import time
from typing import Any

import pytest

from careline.core.actor import Actor
from careline.messaging.models import Message, MessageState
from careline.messaging.services.conversations import conversation_assign
from careline.messaging.tests.inbox_support import PAT_NUMBER, texted_by
from careline.patients.services.notes import alert_add
from careline.testing.browser import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture(autouse=True)
def texting_all_day(settings: Any) -> None:
    settings.CARELINE_TEXTING_WINDOW = (time(0, 0), time.max)


def _no_sideways_scroll(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def _in_view(page: Any, locator: Any) -> bool:
    """Whether LOCATOR's element is wholly inside the viewport as the page stands (no scrolling done)."""
    box = locator.bounding_box()
    size = page.viewport_size
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= size["height"] + 1


def test_split_pane_send_with_ctrl_enter_and_one_pane_at_a_time_on_a_phone(
    browser_context, live_server, personas
):
    alert_add(patient=personas.pat, kind="allergy", text="Latex", actor=Actor.staff(personas.front_a))
    for number in range(12):  # a thread long enough to scroll
        conversation = texted_by(PAT_NUMBER, f"Patient question number {number}\nwith a second line")

    page = browser_context.new_page()
    browser_sign_in(page, live_server.url, personas.front_a)
    page.goto(f"{live_server.url}/inbox/")
    page.evaluate("window.__not_reloaded = true")

    # Wide screen: open from the list; the list stays, the patient shows beside the conversation.
    page.locator("#inbox-list").get_by_role("link", name=re.compile("Pat Ortega")).click()
    page.get_by_role("heading", name="Texts with Pat Ortega").wait_for()
    page.wait_for_url(re.compile(rf"/inbox/{conversation.pk}$"))
    panel = page.locator("#patient-panel")
    panel.get_by_text("Allergy: Latex").wait_for()
    assert panel.get_by_text(personas.pat.mrn).is_visible()
    assert page.locator("#inbox-list").is_visible()
    assert page.evaluate("window.__not_reloaded === true")
    assert page.title() == "Texts with Pat Ortega · Careline"
    list_box = page.locator(".inbox-list-pane").bounding_box()
    thread_box = page.locator("#thread").bounding_box()
    panel_box = panel.bounding_box()
    assert list_box["x"] < thread_box["x"] < panel_box["x"]  # list | conversation | patient
    assert page.locator("#inbox-list a[aria-current='page']").count() == 1

    # Ctrl+Enter sends; the pane comes back with the text, ready for the next one.
    box = page.get_by_label("Message", exact=True)
    box.fill("See you Friday at 9.")
    box.press("Control+Enter")
    page.locator("#thread .bubble.out").filter(has_text="See you Friday at 9.").wait_for()
    assert Message.objects.filter(
        direction="out", body="See you Friday at 9.", author=personas.front_a
    ).exists()
    assert page.evaluate("window.__not_reloaded === true")
    assert page.get_by_label("Message", exact=True).input_value() == ""

    # Live: a delivery report, a new patient text and an assignment show up without a reload.
    sent = Message.objects.get(direction="out", body="See you Friday at 9.")
    Message.objects.filter(pk=sent.pk).update(
        state=MessageState.UNDELIVERED, error_code="30003", error_message="Unreachable handset"
    )
    texted_by(PAT_NUMBER, "Great, thanks")
    conversation_assign(
        conversation=conversation, assignee=personas.clinician_a, actor=Actor.staff(personas.admin)
    )
    page.locator(f"#state-{sent.pk}").filter(has_text="Not delivered: Unreachable handset").wait_for()
    page.locator("#thread .bubble.in").filter(has_text="Great, thanks").wait_for()
    page.locator("#conversation-state [data-assignee]").filter(has_text="Casey Clinician").wait_for()
    assert page.evaluate("window.__not_reloaded === true")

    # Loaded by its address: the list arrives after the page (HTMX), with the open conversation marked.
    page.goto(f"{live_server.url}/inbox/{conversation.pk}")
    page.locator("#inbox-list a[aria-current='page']").wait_for()
    assert page.locator("#inbox-views").is_visible() and not page.locator("#inbox-list-lazy").count()
    page.locator("#inbox-list").get_by_role("link", name=re.compile("Pat Ortega")).click()
    page.get_by_role("heading", name="Texts with Pat Ortega").wait_for()

    # A phone: the conversation alone, the newest text and the reply box in view without scrolling.
    phone = browser_context.new_page()
    phone.set_viewport_size(PHONE)
    phone.goto(f"{live_server.url}/inbox/{conversation.pk}")
    phone.get_by_role("heading", name="Texts with Pat Ortega").wait_for()
    assert not phone.locator(".inbox-list-pane").is_visible()
    assert phone.evaluate("window.scrollY") == 0
    newest = phone.locator("#thread .bubble").last.bounding_box()
    thread = phone.locator("#thread").bounding_box()
    composer = phone.locator("#composer").bounding_box()
    # Inside the thread's scrolled view, above the composer, on the first screen.
    assert thread["y"] <= newest["y"] and newest["y"] + newest["height"] <= thread["y"] + thread["height"] + 1
    assert newest["y"] + newest["height"] <= composer["y"]
    assert _in_view(phone, phone.locator("#thread .bubble").last)
    assert _in_view(phone, phone.get_by_label("Message", exact=True))
    assert _in_view(phone, phone.get_by_role("button", name="Send text"))
    assert phone.locator("#thread .bubble").last.get_by_text("Great, thanks").is_visible()
    assert _no_sideways_scroll(phone)

    # Back to the list: the list shows (with its conversations), still nothing wider than the screen.
    phone.get_by_role("link", name="← Conversations").click()
    phone.locator("#inbox-list").get_by_role("link", name=re.compile("Pat Ortega")).wait_for()
    assert phone.locator(".inbox-list-pane").is_visible()
    assert not phone.locator("#thread").count()
    assert _no_sideways_scroll(phone)


FAKE_NOTIFICATION = """
window.__notices = [];
window.Notification = class {
  constructor(title, options) { window.__notices.push({ title: title, options: options || {} }); }
  close() {}
};
// The browser keeps a granted permission across pages, as a real one does.
window.Notification.permission = sessionStorage.getItem("fake-permission") || "default";
window.Notification.requestPermission = function () {
  window.Notification.permission = "granted";
  sessionStorage.setItem("fake-permission", "granted");
  return Promise.resolve("granted");
};
"""


def test_desktop_alerts_are_asked_for_remembered_and_say_who_not_what(browser_context, live_server, personas):
    texted_by(PAT_NUMBER, "Hello")
    browser_context.add_init_script(FAKE_NOTIFICATION)
    page = browser_context.new_page()
    browser_sign_in(page, live_server.url, personas.front_a)
    page.goto(f"{live_server.url}/inbox/")
    button = page.get_by_role("button", name="Desktop alerts: off")
    with page.expect_response(re.compile(r"/inbox/notices$")):
        button.click()  # asks the browser's permission, then starts listening from now
    page.get_by_role("button", name="Desktop alerts: on").wait_for()
    assert page.evaluate("localStorage.getItem('careline.inbox.notifications')") == "on"

    texted_by(PAT_NUMBER, "Private words about my results")
    for _ in range(50):  # the page asks every 15 s (wait_for_function would need eval, which the CSP refuses)
        if page.evaluate("window.__notices.length"):
            break
        page.wait_for_timeout(500)
    notices = page.evaluate("window.__notices")
    assert [notice["title"] for notice in notices] == ["New message from Pat"]
    assert "Private" not in str(notices)

    page.reload()  # the choice is remembered
    page.get_by_role("button", name="Desktop alerts: on").wait_for()
