"""In a real browser, the main pages (and the API docs) work under the Content-Security-Policy: nothing blocked."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from careline.testing.browser import HOME_URL, browser_sign_in, browser_submit_credentials

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Injected by the browser before any page script, so the policy cannot block it; it records each violation.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`);
});
"""


class Violations:
    """Every CSP violation the pages of a browser context report, from the console and from the DOM event."""

    def __init__(self, context: Any) -> None:
        self.console: list[str] = []
        context.add_init_script(RECORD_VIOLATIONS)
        context.on("page", self._watch)
        for page in context.pages:
            self._watch(page)

    def _watch(self, page: Any) -> None:
        page.on("console", self._console)

    def _console(self, message: Any) -> None:
        text = message.text
        if "Content Security Policy" in text or "Refused to" in text or "evalDisallowed" in text:
            self.console.append(text)

    def check(self, page: Any, where: str) -> None:
        """Fail when PAGE or the console reported a violation."""
        page.wait_for_load_state("networkidle")
        reported = page.evaluate("window.__cspViolations || []")
        assert (reported, self.console) == ([], []), where


def _current_code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def test_front_desk_pages_run_under_the_policy_without_violations(browser_context, live_server, personas):
    violations = Violations(browser_context)
    page = browser_context.new_page()
    browser_sign_in(page, live_server.url, personas.front_a)
    violations.check(page, "patient list")

    page.get_by_label("Search patients").fill("Ortega")  # HTMX search as you type
    page.get_by_role("region", name="Search results").get_by_role("link", name="Ortega, Patricia").wait_for()
    violations.check(page, "patient search")

    for path, heading in [
        (f"/patients/{personas.pat.pk}", "Ortega"),
        ("/inbox/", "Inbox"),
        (f"/inbox/start?patient={personas.pat.pk}", "Text Pat Ortega"),
        ("/inbox/simulator", "Phone simulator"),
        ("/schedule/", "Calendar"),
        ("/handoff", "Shift handoff"),
    ]:
        page.goto(f"{live_server.url}{path}")
        page.get_by_role("heading", name=re.compile(heading)).first.wait_for()
        violations.check(page, path)

    # The composer's segment counter is an HTMX request on load; the thread polls every 3 s.
    page.goto(f"{live_server.url}/inbox/start?patient={personas.pat.pk}")
    page.get_by_role("button", name="Start the conversation").click()
    page.get_by_role("heading", name=re.compile("Texts with Pat Ortega")).first.wait_for()
    page.locator("#segment-counter").filter(has_text="segment").wait_for()
    with page.expect_request(re.compile(r"/inbox/\d+/thread")):
        pass
    violations.check(page, "conversation polling")


def test_admin_pages_and_the_api_docs_run_under_the_policy(browser_context, live_server, personas):
    violations = Violations(browser_context)
    page = browser_context.new_page()
    browser_submit_credentials(page, live_server.url, personas.admin)
    page.wait_for_url(re.compile(r"/accounts/mfa/verify"))
    device = TOTPDevice.objects.get(user=personas.admin, confirmed=True)
    page.get_by_label("Code from your authenticator app").fill(_current_code(device))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(HOME_URL)

    for path in ["/audit/", "/accounts/staff", "/accounts/profile"]:
        page.goto(f"{live_server.url}{path}")
        violations.check(page, path)

    # A new token's field selects itself whole on click (the handler moved out of the template).
    page.goto(f"{live_server.url}/accounts/api-tokens")
    page.get_by_label("Acts as").select_option(label=str(personas.front_a))
    page.get_by_label("Name").fill("EHR sync")
    page.get_by_role("button", name="Create token").click()
    token = page.get_by_label("Token", exact=True)
    token.click()
    selected = token.evaluate("field => field.value.substring(field.selectionStart, field.selectionEnd)")
    assert selected and selected == token.input_value()
    violations.check(page, "API tokens")

    # Swagger UI, served from our own static files, renders the operations under the same policy.
    page.goto(f"{live_server.url}/api/v1/docs")
    page.locator(".swagger-ui .opblock").first.wait_for()
    violations.check(page, "/api/v1/docs")
