"""The billing import pages and the ledger's Void button in a real browser: axe, a phone's width, end to end."""

from __future__ import annotations

from typing import Any

import pytest

from careline.billing.models import BillingImport, Charge
from careline.billing.services.charges import visit_mark_self_pay
from careline.billing.services.import_uploads import billing_import_upload
from careline.billing.tests.import_support import charge_row, export, imported_visit
from careline.billing.tests.support import charge_on, visit_of
from careline.core.actor import Actor
from careline.testing.accessibility import PHONE_VIEWPORT, horizontal_overflow, serious_axe_violations
from careline.testing.browser import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _check_page(page: Any, url: str, name: str) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    assert [v.describe(name) for v in serious_axe_violations(page)] == []
    page.set_viewport_size(PHONE_VIEWPORT)
    page.reload()
    page.wait_for_load_state("networkidle")
    assert horizontal_overflow(page) is None
    assert [v.describe(name) for v in serious_axe_violations(page)] == []


def test_the_import_pages_pass_axe_and_fit_a_phone(
    browser_page: Any, live_server: Any, personas: Any
) -> None:
    from django.urls import reverse

    imported_visit(personas)
    actor = Actor.staff(personas.billing_a)
    good = billing_import_upload(name="good.csv", data=export(charge_row(personas.pat.mrn)), actor=actor)
    bad = billing_import_upload(name="bad.csv", data=export(charge_row("NOPE", units="x")), actor=actor)
    browser_sign_in(browser_page, live_server.url, personas.billing_a)
    _check_page(browser_page, f"{live_server.url}{reverse('billing:import')}", "upload")
    _check_page(
        browser_page, f"{live_server.url}{reverse('billing:import_preview', args=[good.pk])}", "preview"
    )
    _check_page(
        browser_page, f"{live_server.url}{reverse('billing:import_preview', args=[bad.pk])}", "errors"
    )


def test_billing_staff_upload_preview_and_import_a_file(
    browser_page: Any, live_server: Any, personas: Any, tmp_path: Any
) -> None:
    from django.urls import reverse

    imported_visit(personas)
    file = tmp_path / "export.csv"
    file.write_bytes(export(charge_row(personas.pat.mrn)))
    page = browser_page
    browser_sign_in(page, live_server.url, personas.billing_a)
    page.goto(f"{live_server.url}{reverse('billing:import')}")
    page.get_by_label("CSV file").set_input_files(str(file))
    page.get_by_role("button", name="Upload and check").click()
    page.get_by_text("What the import will do").wait_for()
    assert Charge.objects.count() == 0
    page.get_by_role("button", name="Import").click()
    page.get_by_text("Imported.").wait_for()
    assert Charge.objects.get().external_id == "CHG-1"
    assert BillingImport.objects.get().state == "done"


def test_billing_staff_void_a_charge_from_the_ledger(
    browser_page: Any, live_server: Any, personas: Any
) -> None:
    from django.urls import reverse

    visit = visit_of(personas)
    charge = charge_on(personas, visit, 4_000)
    visit_mark_self_pay(visit=visit, actor=Actor.staff(personas.admin))
    page = browser_page
    browser_sign_in(page, live_server.url, personas.billing_a)
    page.goto(f"{live_server.url}{reverse('billing:ledger', args=[personas.pat.pk])}")
    page.get_by_text("Void", exact=True).click()
    page.get_by_label("Reason for voiding").fill("Entered twice")
    page.get_by_role("button", name="Void charge").click()
    page.get_by_text("voided.").first.wait_for()
    charge.refresh_from_db()
    assert charge.voided and charge.void_reason == "Entered twice"
    _check_page(page, page.url, "ledger with a voided charge")
