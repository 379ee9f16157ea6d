"""The billing import pages (upload, preview, confirm) and voiding a charge from the ledger: who, what, audit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from careline.billing.models import BillingImport, Charge, Claim
from careline.billing.queries import patient_balance
from careline.billing.services.payments import payment_record
from careline.billing.services.voids import charge_void
from careline.billing.tests.import_support import (
    adjudication_row,
    charge_row,
    claim_row,
    export,
    imported_visit,
)
from careline.billing.tests.support import billing_actor, charge_on, owing, paid_claim, visit_of
from careline.core.models import AuditEntry
from careline.testing.personas import Personas

pytestmark = pytest.mark.django_db

Clients = Callable[[Any], Client]
ROLES = ("admin", "front_a", "clinician_a", "billing_a", "front_b", None)


def _refused(response: Any) -> bool:
    return response.status_code in (403, 404, 405) or (
        response.status_code == 302 and "/accounts/login" in response["Location"]
    )


def _upload(client: Client, data: bytes, name: str = "export.csv") -> Any:
    return client.post(reverse("billing:import"), {"file": SimpleUploadedFile(name, data, "text/csv")})


def test_the_import_page_is_for_billing_staff_and_administrators(
    personas: Personas, client_for: Clients
) -> None:
    url = reverse("billing:import")
    outcomes = {
        role: not _refused(client_for(None if role is None else getattr(personas, role)).get(url))
        for role in ROLES
    }
    assert outcomes == {
        "admin": True, "front_a": False, "clinician_a": False, "billing_a": True, "front_b": False, None: False,
    }  # fmt: skip


def test_upload_previews_then_confirm_imports_and_audits(personas: Personas, client_for: Clients) -> None:
    imported_visit(personas)
    mrn = personas.pat.mrn
    client = client_for(personas.billing_a)
    response = _upload(client, export(charge_row(mrn), claim_row(mrn, status="paid"), adjudication_row()))
    billing_import = BillingImport.objects.get()
    assert response["Location"] == reverse("billing:import_preview", args=[billing_import.pk])
    preview = client.get(response["Location"])
    assert preview.status_code == 200
    assert b"What the import will do" in preview.content and b"Charges to create" in preview.content
    assert Charge.objects.count() == 0  # nothing before confirmation
    client.post(reverse("billing:import_apply", args=[billing_import.pk]))
    billing_import.refresh_from_db()
    assert (billing_import.state, billing_import.data) == ("done", "")
    assert patient_balance(personas.pat).due == 2_000
    assert AuditEntry.objects.filter(action="import", object_type="billing.billingimport").count() == 1
    # A second confirmation (a double click) imports nothing more.
    client.post(reverse("billing:import_apply", args=[billing_import.pk]))
    assert (Charge.objects.count(), Claim.objects.count()) == (1, 1)
    assert b"Imported." in client.get(reverse("billing:import_preview", args=[billing_import.pk])).content


def test_an_upload_with_row_errors_shows_them_and_keeps_nothing(
    personas: Personas, client_for: Clients
) -> None:
    imported_visit(personas)
    client = client_for(personas.billing_a)
    response = _upload(client, export(charge_row(personas.pat.mrn, units="many")))
    page = client.get(response["Location"])
    assert b"Nothing was imported" in page.content
    assert b"Units are a whole number" in page.content and b"<td>2</td><td>units</td>" in page.content
    billing_import = BillingImport.objects.get()
    assert (billing_import.state, billing_import.data) == ("invalid", "")
    assert client.post(reverse("billing:import_apply", args=[billing_import.pk])).status_code == 302
    assert Charge.objects.count() == 0


def test_a_change_between_preview_and_confirmation_refuses_the_whole_import(
    personas: Personas, client_for: Clients
) -> None:
    imported_visit(personas)
    mrn = personas.pat.mrn
    client = client_for(personas.billing_a)
    _upload(client, export(charge_row(mrn), charge_row(mrn, external_id="CHG-2")))
    billing_import = BillingImport.objects.get()
    _upload(client, export(charge_row(mrn, external_id="CHG-2", unit_amount="1.00")))
    client.post(reverse("billing:import_apply", args=[BillingImport.objects.latest("id").pk]))
    client.post(reverse("billing:import_apply", args=[billing_import.pk]))
    billing_import.refresh_from_db()
    assert billing_import.state == "invalid"
    assert [(e["row"], e["column"]) for e in billing_import.errors] == [(3, "unit_amount")]
    assert list(Charge.objects.values_list("external_id", flat=True)) == ["CHG-2"]


def test_an_empty_or_missing_file_is_refused_with_a_message(personas: Personas, client_for: Clients) -> None:
    client = client_for(personas.billing_a)
    assert client.post(reverse("billing:import"), {}).status_code == 400
    response = _upload(client, b"")
    assert response.status_code == 400 and b"file is empty." in response.content
    assert BillingImport.objects.count() == 0


def test_one_may_follow_only_ones_own_imports_unless_seeing_every_location(
    personas: Personas, client_for: Clients
) -> None:
    _upload(client_for(personas.billing_a), export(charge_row(personas.pat.mrn)))
    url = reverse("billing:import_preview", args=[BillingImport.objects.get().pk])
    assert client_for(personas.billing_a).get(url).status_code == 200
    assert client_for(personas.admin).get(url).status_code == 200
    assert client_for(personas.front_a).get(url).status_code == 403


# --- voiding a charge -----------------------------------------------------------------------------------


def _void(client: Client, charge: Charge, reason: str = "Entered twice") -> Any:
    return client.post(reverse("billing:charge_void", args=[charge.pk]), {f"void-{charge.pk}-reason": reason})


def test_billing_staff_void_a_charge_from_the_ledger_and_it_leaves_the_balance(
    personas: Personas, client_for: Clients
) -> None:
    visit = visit_of(personas)
    from careline.billing.services.charges import visit_mark_self_pay

    charge = charge_on(personas, visit, 5_000)
    visit_mark_self_pay(visit=visit, actor=billing_actor(personas))
    assert patient_balance(personas.pat).due == 5_000
    client = client_for(personas.billing_a)
    ledger = client.get(reverse("billing:ledger", args=[personas.pat.pk]))
    assert b"Void charge" in ledger.content
    response = _void(client, charge)
    assert response["Location"] == reverse("billing:ledger", args=[personas.pat.pk])
    charge.refresh_from_db()
    assert (charge.voided, charge.void_reason, charge.voided_by) == (
        True,
        "Entered twice",
        personas.billing_a,
    )
    assert patient_balance(personas.pat).due == 0
    assert AuditEntry.objects.filter(
        object_type="billing.charge", object_id=str(charge.pk), action="update", patient_id=personas.pat.pk
    ).exists()


def test_a_charge_already_paid_toward_may_be_voided_and_the_patient_is_in_credit(personas: Personas) -> None:
    visit = visit_of(personas)
    from careline.billing.services.charges import visit_mark_self_pay

    charge = charge_on(personas, visit, 5_000)
    visit_mark_self_pay(visit=visit, actor=billing_actor(personas))
    payment_record(patient=personas.pat, amount_cents=2_000, method="cash", actor=billing_actor(personas))
    charge_void(charge=charge, reason="Billed in error", actor=billing_actor(personas))
    balance = patient_balance(personas.pat)
    assert (balance.due, balance.credit_balance) == (0, 2_000)


def test_a_charge_a_final_claim_decided_is_not_voided(personas: Personas, client_for: Clients) -> None:
    visit = visit_of(personas)
    charge = charge_on(personas, visit, 10_000)
    paid_claim(personas, visit, charge, copay=1_000)
    client = client_for(personas.billing_a)
    response = _void(client, charge)
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("appeal the claim before voiding" in m for m in messages)
    charge.refresh_from_db()
    assert not charge.voided


def test_voiding_needs_a_reason_and_happens_once(personas: Personas, client_for: Clients) -> None:
    owing(personas, 1_000)
    charge = charge_on(personas, visit_of(personas, days=3), 500)
    client = client_for(personas.billing_a)
    _void(client, charge, reason="")
    charge.refresh_from_db()
    assert not charge.voided
    _void(client, charge)
    response = _void(client, charge)
    assert any("already voided" in str(m) for m in response.wsgi_request._messages)


def test_only_billing_staff_of_the_patients_location_void_charges(
    personas: Personas, client_for: Clients
) -> None:
    charge = charge_on(personas, visit_of(personas), 500)
    for role in ("front_a", "clinician_a", "front_b", None):
        response = _void(client_for(None if role is None else getattr(personas, role)), charge)
        assert _refused(response), role
    charge.refresh_from_db()
    assert not charge.voided
    assert (
        client_for(personas.billing_a).get(reverse("billing:charge_void", args=[charge.pk])).status_code
        == 405
    )


def test_a_file_with_nul_bytes_or_a_strange_name_is_refused_cleanly(
    personas: Personas, client_for: Clients
) -> None:
    client = client_for(personas.billing_a)
    response = _upload(client, b"record_type,mrn\ncharge,\x00\x00\n", name="ex\x07port.csv")
    page = client.get(response["Location"])
    assert page.status_code == 200 and b"Nothing was imported" in page.content
    assert BillingImport.objects.get().original_name == "export.csv"
