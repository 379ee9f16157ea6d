"""Every portal page, in a real browser, in English and in Spanish, for a signed-in patient and a caregiver
(and the public pages signed out): no serious or critical axe-core violation, and no sideways scrolling on a
phone (390x844). Modelled on careline/core/tests/test_browser_page_quality.py.

The pages come from the URL configuration: every `portal:` route the portal sweep's table
(test_portal_sweep.PORTAL_ROUTES) says may be read (not POST-only), with its objects for URL arguments, so a
page another area adds is covered the day its table entry is. A route answering something other than a
whole HTML page (a manifest, a script, a redirect) must be listed in PORTAL_NOT_PAGES.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.urls import reverse

from careline.patients.models import Patient
from careline.portal.models import ALL_SECTIONS, PortalAccount
from careline.portal.tests.test_portal_sweep import PORTAL_ROUTES
from careline.testing.accessibility import (
    DESKTOP_VIEWPORT,
    FAILING_IMPACTS,
    PHONE_VIEWPORT,
    axe_violations,
    horizontal_overflow,
    network_settled,
    watch_network,
)
from careline.testing.personas import Personas
from careline.testing.portal import (
    PORTAL_PASSWORD,
    browser_portal_trust_device,
    portal_account_for,
    portal_caregiver_account,
)
from careline.testing.urlsweep import Route, routes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PORTAL_NOT_PAGES: dict[str, str] = {
    "portal:manifest": "the web app manifest (JSON)",
    "portal:service_worker": "the service worker (JavaScript)",
    "portal:caregiver_join": "a redirect to the invitation page (the link's token kept in the session)",
    "portal:message_file": "a file of a message, as a download (PDF, JPEG or PNG)",
    "portal:document": "a document of the record, as a download (PDF)",
    "portal:statement_file": "a statement, as a download (PDF)",
    "portal:appointment_ics": "a visit's calendar file (.ics)",
    "portal:code_enter": "without a code asked for, a redirect to the sign-in page",
    "portal:reset_password": "without a reset code, a redirect to the password reset page",
}
LANGUAGES = {"en": "English", "es": "Español"}


@dataclass
class Findings:
    visited: list[str] = field(default_factory=list)
    not_pages: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _portal_routes() -> list[Route]:
    return [route for route in routes() if route.key.startswith("portal:")]


def _care_enrolment_with_readings(personas: Personas) -> None:
    """Pat in the heart-failure program (weight, blood pressure, a symptom question) with a few readings, so the
    Care page shows its form, a check-in waiting, the charts and the table."""
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from careline.care.models import CheckIn, CheckInState
    from careline.care.services.readings import reading_add_by_staff
    from careline.care.tests.support import enrolled
    from careline.core.actor import Actor

    enrolment = enrolled(personas.pat, personas.clinician_a, code="heart-failure")
    enrolment.channel = "portal"
    enrolment.save(update_fields=["channel"])
    first = enrolment.checkins.order_by("due_at").values_list("pk", flat=True)[:1]
    CheckIn.objects.filter(pk__in=list(first)).update(state=CheckInState.SENT, sent_at=timezone.now())
    for days, (systolic, weight) in enumerate([(128, 81), (135, 82), (142, 82.5)]):
        when = timezone.now() - timedelta(days=3 - days)
        actor = Actor.staff(personas.clinician_a)
        reading_add_by_staff(
            patient=personas.pat, measure="blood_pressure", value=Decimal(systolic), value2=Decimal(85),
            taken_at=when, actor=actor,
        )  # fmt: skip
        reading_add_by_staff(
            patient=personas.pat, measure="weight", value=Decimal(str(weight)), value2=None, taken_at=when,
            actor=actor,
        )  # fmt: skip


def _url(route: Route, personas: Personas, patient: Patient) -> str:
    spec = PORTAL_ROUTES[route.key]
    return reverse(route.key, kwargs=spec.objects(personas, patient) if spec.objects else {})


def _check(page: Any, where: str, findings: Findings) -> None:
    """axe at the desktop size, then the page reloaded at a phone's size: its width, and axe again."""
    network_settled(page)
    serious = [v for v in axe_violations(page) if v.impact in FAILING_IMPACTS]
    findings.problems += [violation.describe(where) for violation in serious]
    page.set_viewport_size(PHONE_VIEWPORT)
    page.reload()
    network_settled(page)
    overflow = horizontal_overflow(page)
    if overflow:
        findings.problems.append(f"{where}: sideways scrolling at 390 px: {overflow}")
    seen = {violation.rule for violation in serious}
    findings.problems += [
        violation.describe(f"{where} (phone)")
        for violation in axe_violations(page)
        if violation.impact in FAILING_IMPACTS and violation.rule not in seen
    ]
    page.set_viewport_size(DESKTOP_VIEWPORT)
    findings.visited.append(where)


def _visit(page: Any, base: str, key: str, url: str, where: str, findings: Findings) -> None:
    answer = page.context.request.get(f"{base}{url}", max_redirects=0)
    content_type = answer.headers.get("content-type", "")
    if 300 <= answer.status < 400:
        content_type = f"a redirect to {answer.headers.get('location')}"
    body = answer.text() if content_type.startswith("text/html") else ""
    if not re.match(r"\s*<!doctype html", body, re.IGNORECASE):
        findings.not_pages[key] = f"{answer.status} {content_type}"
        return
    assert answer.status < 500, f"{where} {url}: {answer.status}"
    page.goto(f"{base}{url}")
    _check(page, where, findings)


def _choose_language(page: Any, base: str, code: str) -> None:
    """Switch the portal's language with the header's button (a POST, as a visitor does)."""
    page.goto(f"{base}{reverse('portal:signin')}")
    button = page.get_by_role("button", name=LANGUAGES[code])
    if button.count():
        button.click()
        page.wait_for_load_state("networkidle")


def _sign_in(page: Any, base: str, account: PortalAccount) -> None:
    browser_portal_trust_device(page, base, account)  # the password alone signs in: no one-time code
    page.goto(f"{base}{reverse('portal:signin')}")
    page.locator("#id_identifier").fill(str(account.email))
    page.locator("#id_password").fill(PORTAL_PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(re.compile(r"/portal/$"))


# Close to pytest-timeout's 300 s when the machine is busy (both passed their limit on a shared CI machine).
@pytest.mark.timeout(600)
def test_every_portal_page_has_no_serious_accessibility_violation_and_fits_a_phone(
    browser_context, live_server, personas, capsys
):
    started = time.monotonic()
    findings = Findings()
    base = live_server.url
    patient_account = portal_account_for(personas.pat)
    caregiver_account = portal_caregiver_account(personas.pat_caregiver, sections=list(ALL_SECTIONS))
    _care_enrolment_with_readings(personas)
    page = watch_network(browser_context.new_page())
    page.set_viewport_size(DESKTOP_VIEWPORT)
    portal_routes = _portal_routes()
    readable = [route for route in portal_routes if not PORTAL_ROUTES[route.key].post_only]

    for code in LANGUAGES:
        # Signed out: the public pages (sign-in, an invitation link that no longer works...).
        browser_context.clear_cookies()
        _choose_language(page, base, code)
        for route in readable:
            if PORTAL_ROUTES[route.key].public:
                url = _url(route, personas, personas.pat)
                _visit(page, base, route.key, url, f"{route.key} [signed out, {code}]", findings)
        # Signed in as the patient and as the caregiver granted every section.
        for who, account in (("patient", patient_account), ("caregiver", caregiver_account)):
            browser_context.clear_cookies()
            _sign_in(page, base, account)
            if code != "en":
                page.get_by_role("button", name=LANGUAGES[code]).click()
                page.wait_for_load_state("networkidle")
            assert page.locator("html").get_attribute("lang") == code
            for route in readable:
                if not PORTAL_ROUTES[route.key].public:
                    url = _url(route, personas, personas.pat)
                    _visit(page, base, route.key, url, f"{route.key} [{who}, {code}]", findings)

    with capsys.disabled():
        print(
            f"\nportal page quality: {len(findings.visited)} page visits in {time.monotonic() - started:.0f} s"
        )

    assert {
        "portal:home [patient, es]",
        "portal:profile [caregiver, en]",
        "portal:signin [signed out, es]",
    } <= set(findings.visited)
    assert findings.not_pages.keys() == PORTAL_NOT_PAGES.keys(), "keep PORTAL_NOT_PAGES true"
    assert not findings.problems, "\n".join(findings.problems)


def test_the_service_worker_installs_and_keeps_only_static_files(browser_context, live_server, personas):
    account = portal_account_for(personas.pat)
    page = browser_context.new_page()
    _sign_in(page, live_server.url, account)
    page.goto(f"{live_server.url}{reverse('portal:profile')}")
    page.wait_for_function("() => navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    page.wait_for_load_state("networkidle")
    kept = page.evaluate(
        """async () => {
          const urls = [];
          for (const name of await caches.keys()) {
            const cache = await caches.open(name);
            for (const request of await cache.keys()) urls.push(new URL(request.url).pathname);
          }
          return urls;
        }"""
    )
    assert kept, "the worker kept the static shell"
    assert all(url.startswith("/static/") for url in kept), kept
    scope = page.evaluate("navigator.serviceWorker.getRegistration().then(r => r && r.scope)")
    assert scope == f"{live_server.url}/portal/"
