"""Every staff page, in a real browser: no serious or critical axe-core violation, and no sideways scrolling on
a phone (390x844).

The pages come from the URL configuration (careline/testing/urlsweep.py) and the authorization sweep's ACCESS
table: every route someone may GET, filled with the world's real rows at location A and the query string the
sweep sends, visited as the administrator (signed in with a code) or, for a page the administrator may not
see, as the front desk. Sign-in and the code page are checked on the way in. One browser, one context, one
page after another.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from careline.core.tests.test_authorization_sweep import REQUESTS, access_for
from careline.patients.models import Patient, PatientPhone, PhoneKind
from careline.testing.accessibility import (
    DESKTOP_VIEWPORT,
    FAILING_IMPACTS,
    PHONE_VIEWPORT,
    axe_violations,
    focus_ring_problems,
    horizontal_overflow,
    network_settled,
    serious_axe_violations,
    watch_network,
)
from careline.testing.browser import HOME_URL, browser_sign_in, browser_submit_credentials
from careline.testing.urlsweep import Route, World, routes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Routes someone may GET that are not pages: files, feeds and the pieces HTMX swaps into a page (checked
# inside the page that loads them). A route answering something other than a whole HTML page must be here,
# and one listed here must not answer a page, so the list stays true.
NOT_PAGES: dict[str, str] = {
    "/simulator": "a redirect to the phone simulator page",
    "healthz": "JSON health check",
    "metrics": "Prometheus metrics text",
    "billing:dashboard_csv": "the billing dashboard's figures as CSV",
    "billing:statement_pdf": "a statement's PDF",
    "messaging:media_public": "an image for the SMS provider",
    "messaging:media": "an image shown inside the conversation page",
    "scheduling:appointment_ics": "a calendar file",
    "audit:export": "a CSV file",
    "scheduling:reminders_report_csv": "a CSV file",
    "surveys:results_csv": "a CSV file",
    "surveys:service_csv": "a CSV file",
    "messaging:thread": "HTMX fragment of the conversation page",
    "messaging:simulator_screen": "HTMX fragment of the phone simulator page",
    "messaging:announcement_progress": "HTMX fragment of the announcement page",
    "scheduling:reminder_replan_status": "HTMX fragment of the reminder rules page",
    "favicon": "a redirect to the SVG icon",
    "messaging:inbox_notices": "JSON the inbox polls for desktop alerts",
    "nav_badge": "HTMX fragment: the navigation's Inbox count",
    "care:alert_trend": "HTMX fragment of the care worklist (a row's trend)",
    "scheduling:calendar_events": "JSON feed of the calendar grid",
    "portal:reset_password": "without a reset code, a redirect to the password reset page",
    "portal:manifest": "the portal's web app manifest (JSON)",
    "portal:service_worker": "the portal's service worker (JavaScript)",
    "portal:caregiver_join": "a redirect to the caregiver's invitation page",
    "records:document_file": "a PDF file",
    "education_public:open": "a texted education link: counts the open, redirects to the item's page",
    "training:export": "a CSV file",
    "training:lesson_file": "a PDF file",
}
# Routes under /api/v1/ are bearer-token endpoints, and the API's docs page is Swagger UI's own markup.
API_PREFIX = "/api/v1/"

# Pages that fail today and are being rewritten elsewhere, by route key, with the reason. The sweep still visits
# them and prints what fails; a listed page that passes fails the test, so the list only shrinks.
KNOWN_AXE_FAILURES: dict[str, str] = {}
KNOWN_PHONE_FAILURES: dict[str, str] = {}


@dataclass
class Findings:
    """What the sweep saw, by route key."""

    visited: list[str] = field(default_factory=list)
    not_pages: dict[str, str] = field(default_factory=dict)  # route key -> what it answered
    axe: dict[str, list[str]] = field(default_factory=dict)
    lesser: dict[str, int] = field(default_factory=dict)  # moderate or minor axe rule -> pages breaking it
    phone: dict[str, str] = field(default_factory=dict)


def _current_code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def _viewer(route: Route) -> str | None:
    """Who visits ROUTE: the administrator if they may GET it, else the front desk, else nobody."""
    access = access_for(route)
    if access is None or route.pattern.startswith(API_PREFIX):
        return None
    if "admin" in access.get:
        return "admin"
    return "front_a" if "front_a" in access.get else None


def _page_url(world: World, route: Route, queries: dict[str, dict[str, Any]]) -> str:
    url = world.url(route, world.a)
    query = queries.get(route.key) or (REQUESTS[route.key](world.a) if route.key in REQUESTS else None)
    return f"{url}?{urlencode(query)}" if query else url


def _check(page: Any, key: str, findings: Findings) -> None:
    """Run axe at the desktop size, then load the page at a phone's size and measure its width (keeping a
    picture of each size in $CARELINE_PAGE_PICTURES when it names a folder, for a person to look at)."""
    network_settled(page)
    pictures = os.environ.get("CARELINE_PAGE_PICTURES")
    picture = Path(pictures) / re.sub(r"[^\w.-]+", "_", key) if pictures else None
    if picture:
        picture.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{picture}-desktop.png", full_page=True)
    violations = axe_violations(page)
    serious = [violation for violation in violations if violation.impact in FAILING_IMPACTS]
    if serious:
        findings.axe[key] = [violation.describe(key) for violation in serious]
    for violation in violations:
        if violation.impact not in FAILING_IMPACTS:
            findings.lesser[violation.rule] = findings.lesser.get(violation.rule, 0) + 1
    # Loaded again at the phone's size, as a phone would: a page laid out at the desktop's size and then
    # narrowed can keep widths from the first layout.
    page.set_viewport_size(PHONE_VIEWPORT)
    page.reload()
    network_settled(page)
    overflow = horizontal_overflow(page)
    if picture:
        page.screenshot(path=f"{picture}-phone.png", full_page=True)
    if overflow:
        findings.phone[key] = f"{key}: {overflow}"
    # axe again on the phone: a table that scrolls sideways there must be reachable by keyboard, for one.
    seen = {violation.rule for violation in serious}
    on_phone = [v for v in axe_violations(page) if v.impact in FAILING_IMPACTS and v.rule not in seen]
    if on_phone:
        findings.axe.setdefault(key, []).extend(
            violation.describe(f"{key} (phone)") for violation in on_phone
        )
    page.set_viewport_size(DESKTOP_VIEWPORT)
    findings.visited.append(key)


def _visit(page: Any, base: str, key: str, url: str, findings: Findings) -> None:
    """Check URL if it answers a whole HTML page (asked first with the context's cookies: a file would start a
    download instead of loading)."""
    answer = page.context.request.get(f"{base}{url}", max_redirects=0)
    content_type = answer.headers.get("content-type", "")
    if 300 <= answer.status < 400:
        content_type = f"a redirect to {answer.headers.get('location')}"
    body = answer.text() if content_type.startswith("text/html") else ""
    if not re.match(r"\s*<!doctype html", body, re.IGNORECASE):
        findings.not_pages[key] = f"{answer.status} {content_type}"
        return
    assert answer.ok, f"{key} {url}: {answer.status}"
    page.goto(f"{base}{url}")
    _check(page, key, findings)


def _report(title: str, failures: dict[str, Any], known: dict[str, str]) -> list[str]:
    """Lines for failures not in KNOWN, and for pages in KNOWN that pass now."""
    lines = []
    for key, found in sorted(failures.items()):
        if key in known:
            continue
        lines += found if isinstance(found, list) else [found]
    lines += [
        f"{key}: passes now, remove it from the known failures" for key in sorted(set(known) - set(failures))
    ]
    return [f"{title}:", *lines] if lines else []


def _patient_without_conversation(world: World) -> Patient:
    """A patient at location A with a mobile number and no conversation yet, so the "start a conversation"
    page shows itself instead of sending on to the conversation."""
    patient = Patient.objects.create(
        mrn="MRN-LEE-3",
        legal_first_name="Lee",
        legal_last_name="Nguyen",
        date_of_birth=date(1991, 6, 2),
        primary_location=world.a.location,
    )
    PatientPhone.objects.create(
        patient=patient, number="+13125550177", kind=PhoneKind.MOBILE, is_primary=True
    )
    return patient


# Close to pytest-timeout's 300 s when the machine is busy (both passed their limit on a shared CI machine).
@pytest.mark.timeout(600)
def test_every_staff_page_has_no_serious_accessibility_violation_and_fits_a_phone(
    browser_context, live_server, url_world, capsys
):
    started = time.monotonic()
    findings = Findings()
    queries = {"messaging:start": {"patient": _patient_without_conversation(url_world).pk}}
    page = watch_network(browser_context.new_page())
    page.set_viewport_size(DESKTOP_VIEWPORT)
    admin = url_world.personas.admin

    # The way in: the sign-in page, then the code page.
    page.goto(f"{live_server.url}/accounts/login")
    _check(page, "accounts:login", findings)
    browser_submit_credentials(page, live_server.url, admin)
    page.wait_for_url(re.compile(r"/accounts/mfa/verify"))
    _check(page, "accounts:mfa_verify", findings)
    device = TOTPDevice.objects.get(user=admin, confirmed=True)
    page.get_by_label("Code from your authenticator app").fill(_current_code(device))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(HOME_URL)

    by_viewer: dict[str, list[Route]] = {}
    for route in routes():
        viewer = _viewer(route)
        if viewer and route.key not in findings.visited:
            by_viewer.setdefault(viewer, []).append(route)
    for viewer in ("admin", "front_a"):  # the administrator sees every page today; the front desk none alone
        if viewer != "admin" and by_viewer.get(viewer):
            page.context.clear_cookies()
            browser_sign_in(page, live_server.url, getattr(url_world.personas, viewer))
        for route in by_viewer.get(viewer, []):
            _visit(page, live_server.url, route.key, _page_url(url_world, route, queries), findings)

    with capsys.disabled():
        print(
            f"\npage quality sweep: {len(findings.visited)} pages in {time.monotonic() - started:.0f} s; "
            f"not pages: {sorted(findings.not_pages)}"
        )
        lesser = ", ".join(f"{rule} ({count} pages)" for rule, count in sorted(findings.lesser.items()))
        print(f"moderate or minor axe findings (not failed on): {lesser or 'none'}")
        known = KNOWN_AXE_FAILURES | KNOWN_PHONE_FAILURES
        for key in sorted(set(findings.axe) | set(findings.phone)):
            for line in [*findings.axe.get(key, []), findings.phone.get(key, "")]:
                if line:
                    print(("(known) " if key in known else "") + line)

    assert {"patients:list", "patients:detail", "messaging:inbox", "scheduling:calendar"} <= set(
        findings.visited
    )
    not_listed = {key: what for key, what in findings.not_pages.items() if key not in NOT_PAGES}
    pages_listed = sorted(set(NOT_PAGES) - set(findings.not_pages))
    assert (not_listed, pages_listed) == ({}, []), (
        "keep NOT_PAGES true: (not pages missing from it, pages in it)"
    )
    problems = _report(
        "serious or critical axe-core violations (page: rule (impact: help) at offending elements)",
        findings.axe,
        KNOWN_AXE_FAILURES,
    ) + _report(
        "sideways scrolling at 390x844 (the widest and innermost elements sticking out)",
        findings.phone,
        KNOWN_PHONE_FAILURES,
    )
    assert not problems, "\n".join(problems)


def test_the_checks_find_a_missing_text_alternative_and_a_page_too_wide_for_a_phone(
    browser_page, live_server
):
    page = browser_page
    page.goto(f"{live_server.url}/accounts/login")
    page.wait_for_load_state("networkidle")
    assert serious_axe_violations(page) == []
    page.set_viewport_size(PHONE_VIEWPORT)
    assert horizontal_overflow(page) is None

    page.evaluate("""() => {
      const image = document.createElement("img");
      image.src = "/static/careline/nothing.png";
      image.id = "no-alt";
      const wide = document.createElement("div");
      wide.className = "too-wide";
      wide.style.width = "900px";
      wide.textContent = "wide";
      document.querySelector("main").append(image, wide);
    }""")
    found = serious_axe_violations(page)
    assert [(v.rule, v.selectors) for v in found if v.rule == "image-alt"] == [("image-alt", ("#no-alt",))]
    assert "image-alt" in found[0].describe("login") and "#no-alt" in found[0].describe("login")
    overflow = horizontal_overflow(page)
    assert overflow is not None and "div.too-wide (900px wide" in overflow


def test_keyboard_focus_is_visible_on_the_blue_bar_and_on_the_page(browser_page, live_server, personas):
    page = browser_page
    browser_sign_in(page, live_server.url, personas.front_a)
    page.goto(f"{live_server.url}/patients/{personas.pat.pk}")
    page.wait_for_load_state("networkidle")
    # The skip link, the brand and menu in the bar, the patient banner, then the page's links and buttons.
    problems, checked = focus_ring_problems(page, presses=16)
    assert checked == 16
    assert problems == []


def test_a_fieldset_holding_a_long_choice_fits_a_phone(browser_page, live_server):
    """A fieldset is as wide as its widest content unless told otherwise; the shared stylesheet tells it."""
    page = browser_page
    page.set_viewport_size(PHONE_VIEWPORT)
    page.goto(f"{live_server.url}/accounts/login")
    page.wait_for_load_state("networkidle")
    page.evaluate("""() => {
      const fieldset = document.createElement("fieldset");
      fieldset.className = "field";
      const select = document.createElement("select");
      select.add(new Option("A reason to mark this conversation urgent that is much longer than a phone is wide"));
      fieldset.append(select);
      document.querySelector("main").append(fieldset);
    }""")
    assert horizontal_overflow(page) is None


def test_a_table_scrolling_sideways_on_a_phone_takes_the_keyboard_focus_only_while_it_scrolls(
    browser_page, live_server
):
    page = browser_page
    page.set_viewport_size(PHONE_VIEWPORT)
    page.goto(f"{live_server.url}/accounts/login")
    page.wait_for_load_state("networkidle")
    page.evaluate("""() => {
      const wrap = document.createElement("div");
      wrap.className = "table-wrap";
      wrap.id = "wide-table";
      const table = wrap.appendChild(document.createElement("table"));
      table.createCaption().textContent = "Visits by week";
      const cell = table.insertRow().insertCell();
      cell.style.minWidth = "900px";
      cell.textContent = "wide";
      document.querySelector("main").append(wrap);
      window.dispatchEvent(new Event("resize"));
    }""")
    wrap = page.locator("#wide-table")
    page.wait_for_function("() => document.querySelector('#wide-table').getAttribute('tabindex') === '0'")
    assert (wrap.get_attribute("role"), wrap.get_attribute("aria-label")) == ("region", "Visits by week")
    assert serious_axe_violations(page) == []

    page.set_viewport_size({"width": 1400, "height": 900})
    page.wait_for_function("() => !document.querySelector('#wide-table').hasAttribute('tabindex')")
    assert wrap.get_attribute("role") is None
