"""In a real browser: the staff records pages and the portal's Records and Results (with the trend chart) have
no serious accessibility violation (axe-core) and fit a 390 px phone without sideways scrolling."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from careline.core.actor import Actor
from careline.records.models import LabResult, ResultReleaseRule
from careline.records.services.results import result_release
from careline.records.tests.support import allergy_for, document_of, result_for
from careline.testing.accessibility import (
    DESKTOP_VIEWPORT,
    PHONE_VIEWPORT,
    horizontal_overflow,
    serious_axe_violations,
)
from careline.testing.browser import browser_sign_in
from careline.testing.portal import PORTAL_PASSWORD, browser_portal_trust_device, portal_account_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def record(personas, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    ResultReleaseRule.objects.create(
        test_code="HBA1C", policy="held", updated_by=personas.admin, updated_at=timezone.now()
    )
    allergy = allergy_for(personas.pat, personas.clinician_a)
    results = [
        result_for(
            personas.pat, personas.clinician_a, value=value,
            collected_at=timezone.now() - timedelta(days=90 * (4 - index)),
            resulted_at=timezone.now() - timedelta(days=90 * (4 - index) - 1),
        )
        for index, value in enumerate(["7.8", "7.2", "6.6", "6.9"])
    ]  # fmt: skip
    for result in results[:3]:
        result_release(result=result, actor=Actor.staff(personas.clinician_a))
    document = document_of(personas.pat)
    return {"allergy": allergy, "results": results, "document": document}


def _check(page, url: str) -> list[str]:
    """Problems of URL at a desktop's size and a phone's: serious axe findings, sideways scrolling."""
    problems = []
    for viewport in (DESKTOP_VIEWPORT, PHONE_VIEWPORT):
        page.set_viewport_size(viewport)
        page.goto(url)
        page.wait_for_load_state("networkidle")
        problems += [f"{url} at {viewport['width']}: {v.describe(url)}" for v in serious_axe_violations(page)]
        overflow = horizontal_overflow(page)
        if overflow:
            problems.append(f"{url} scrolls sideways at {viewport['width']} px: {overflow}")
    return problems


def test_the_staff_records_pages_are_accessible_and_fit_a_phone(browser_page, live_server, personas, record):
    page = browser_page
    browser_sign_in(page, live_server.url, personas.clinician_a)
    pat = personas.pat.pk
    held = record["results"][3]
    paths = [
        f"/records/patients/{pat}/",
        f"/records/patients/{pat}/allergies/{record['allergy'].pk}",
        f"/records/patients/{pat}/allergies/add",
        f"/records/patients/{pat}/visit-summaries/add",
        f"/records/patients/{pat}/results/add",
        f"/records/patients/{pat}/results/{held.pk}",
        f"/records/patients/{pat}/results/{record['results'][2].pk}",
        f"/records/patients/{pat}/documents/add",
        f"/records/patients/{pat}/documents/{record['document'].pk}",
        f"/patients/{pat}",
    ]
    problems = [problem for path in paths for problem in _check(page, live_server.url + path)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_portal_records_and_results_are_accessible_and_fit_a_phone(
    browser_page, live_server, personas, record, language
):
    account = portal_account_for(personas.pat, language=language)
    page = browser_page
    browser_portal_trust_device(page, live_server.url, account)  # a trusted browser: no one-time code asked
    page.goto(f"{live_server.url}/portal/signin/")
    page.locator("input[name=identifier]").fill(account.email)
    page.locator("input[name=password]").fill(PORTAL_PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(f"{live_server.url}/portal/")
    released = record["results"][2]
    problems = []
    for path in ["/portal/", "/portal/records/", "/portal/results/", f"/portal/results/{released.pk}/"]:
        problems += _check(page, live_server.url + path)
    assert not problems, "\n".join(problems)
    page.goto(f"{live_server.url}/portal/results/{released.pk}/")
    chart = page.locator("svg.trend-chart")
    assert chart.get_attribute("role") == "img"
    assert page.locator("svg.trend-chart circle").count() == 3
    assert page.locator("svg.trend-chart rect.trend-range").count() == 1
    assert LabResult.objects.filter(released_at__isnull=True).count() == 1
