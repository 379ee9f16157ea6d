"""/api/v1/billing: the import (token, all or nothing, Idempotency-Key) and the balance and ledger reads."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from careline.billing.models import BillingIdempotencyKey, Charge, Claim
from careline.billing.tests.import_support import imported_visit
from careline.billing.tests.support import owing
from careline.core.models import AuditEntry
from careline.patients.tests.api_support import ApiClient, api_for
from careline.testing.personas import Personas

pytestmark = pytest.mark.django_db

IMPORTS = "/billing/imports"


def body(mrn: str, **charge: Any) -> dict[str, Any]:
    return {
        "charges": [
            {
                "external_id": "CHG-1", "mrn": mrn, "appointment_id": "APT-1", "service_date": "2030-03-04",
                "service_code": "99213", "description": "Office visit", "units": 1, "unit_amount_cents": 15_000,
                **charge,
            }
        ],
        "claims": [
            {"external_id": "CLM-1", "mrn": mrn, "appointment_id": "APT-1", "payer": "Acme Health",
             "member_id": "M-1", "status": "paid"}
        ],
        "adjudications": [
            {"claim_id": "CLM-1", "charge_id": "CHG-1", "allowed_cents": 10_000, "paid_by_insurer_cents": 8_000,
             "adjustment_cents": 5_000, "adjustment_reason_code": "CO-45", "copay_cents": 2_000}
        ],
    }  # fmt: skip


def _post(client: ApiClient, payload: Any, key: str | None = None, path: str = IMPORTS) -> Any:
    headers = {**client.headers, **({"Idempotency-Key": key} if key is not None else {})}
    return client.client.post(
        "/api/v1" + path, json.dumps(payload), content_type="application/json", headers=headers
    )


def test_the_import_needs_a_token_of_billing_staff(personas: Personas) -> None:
    imported_visit(personas)
    payload = body(personas.pat.mrn)
    anonymous = _post(api_for(None), payload)
    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"].startswith("Bearer")
    for role in ("front_a", "clinician_a", "front_b"):
        assert _post(api_for(getattr(personas, role)), payload).status_code == 403, role
    assert Charge.objects.count() == 0
    response = _post(api_for(personas.billing_a), payload)
    assert response.status_code == 200, response.content
    assert response.json() == {
        "dry_run": False, "charges_created": 1, "charges_unchanged": 0, "claims_created": 1,
        "claims_status_changed": 0, "claims_unchanged": 0, "adjudications_recorded": 1,
    }  # fmt: skip
    assert (
        AuditEntry.objects.filter(action="import", object_type="billing.import", channel="api").count() == 1
    )


def test_an_administrators_token_imports_too(personas: Personas) -> None:
    imported_visit(personas)
    assert _post(api_for(personas.admin), body(personas.pat.mrn)).status_code == 200


def test_row_errors_come_back_by_record_and_field_and_nothing_is_imported(personas: Personas) -> None:
    imported_visit(personas)
    payload = body(personas.pat.mrn)
    payload["charges"].append({**payload["charges"][0], "external_id": "CHG-2", "mrn": "NOPE"})
    payload["adjudications"][0]["allowed_cents"] = 20_000
    response = _post(api_for(personas.billing_a), payload)
    assert response.status_code == 422
    answer = response.json()
    assert answer["detail"] == "Nothing was imported: 2 problems."
    assert [e["field"] for e in answer["errors"]] == ["charges.1.mrn", "adjudications.0.allowed_cents"]
    assert "more than the charge" in answer["errors"][1]["message"]
    assert (Charge.objects.count(), Claim.objects.count()) == (0, 0)


def test_a_body_that_is_not_the_schema_is_refused_per_field(personas: Personas) -> None:
    response = _post(api_for(personas.billing_a), {"charges": [{"mrn": 5}], "invoices": []})
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"invoices", "charges.0.external_id"} <= fields
    negative = body(personas.pat.mrn, unit_amount_cents=-1)
    assert _post(api_for(personas.billing_a), negative).status_code == 422


def test_sending_the_same_records_again_changes_nothing(personas: Personas) -> None:
    imported_visit(personas)
    client = api_for(personas.billing_a)
    _post(client, body(personas.pat.mrn))
    again = _post(client, body(personas.pat.mrn)).json()
    assert (again["charges_unchanged"], again["claims_unchanged"], again["charges_created"]) == (1, 1, 0)
    assert Charge.objects.count() == 1


def test_the_same_idempotency_key_and_body_replays_the_first_answer(personas: Personas) -> None:
    imported_visit(personas)
    client = api_for(personas.billing_a)
    first = _post(client, body(personas.pat.mrn), key="3f1c-key")
    second = _post(client, body(personas.pat.mrn), key="3f1c-key")
    assert second.status_code == 200
    assert second.json() == first.json()  # the first import's answer: 1 created, not "1 unchanged"
    assert second["Idempotent-Replayed"] == "true"
    assert Charge.objects.count() == 1
    assert BillingIdempotencyKey.objects.get().key == "3f1c-key"


def test_the_same_idempotency_key_with_another_body_is_refused(personas: Personas) -> None:
    imported_visit(personas)
    client = api_for(personas.billing_a)
    _post(client, body(personas.pat.mrn), key="k-1")
    other = copy.deepcopy(body(personas.pat.mrn, external_id="CHG-9"))
    response = _post(client, other, key="k-1")
    assert response.status_code == 409
    assert "already used with a different request body" in response.json()["detail"]
    assert not Charge.objects.filter(external_id="CHG-9").exists()


def test_keys_are_per_user_and_a_refused_import_keeps_no_key(personas: Personas) -> None:
    imported_visit(personas)
    bad = body("NOPE")
    assert _post(api_for(personas.billing_a), bad, key="k-2").status_code == 422
    assert BillingIdempotencyKey.objects.count() == 0
    assert _post(api_for(personas.billing_a), body(personas.pat.mrn), key="k-2").status_code == 200
    # Another user's same key is theirs: it does not replay billing_a's answer.
    other = _post(api_for(personas.admin), body(personas.pat.mrn), key="k-2").json()
    assert other["charges_unchanged"] == 1


@pytest.mark.parametrize("key", ["", "x" * 256, "ключ"])
def test_a_malformed_idempotency_key_is_refused(personas: Personas, key: str) -> None:
    imported_visit(personas)
    client = api_for(personas.billing_a)
    headers = {**client.headers, "Idempotency-Key": key}
    response = client.client.post(
        "/api/v1" + IMPORTS,
        json.dumps(body(personas.pat.mrn)),
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code in (400, 422)
    assert Charge.objects.count() == 0


def test_a_dry_run_checks_and_writes_nothing(personas: Personas) -> None:
    imported_visit(personas)
    response = _post(api_for(personas.billing_a), body(personas.pat.mrn), path=IMPORTS + "?dry_run=true")
    assert response.status_code == 200 and response.json()["dry_run"] is True
    assert response.json()["charges_created"] == 1
    assert Charge.objects.count() == 0


def test_balance_and_ledger_reads_are_for_billing_staff_and_audited(personas: Personas) -> None:
    owing(personas, 2_500)
    pat = personas.pat.pk
    for role in ("front_a", "clinician_a", "front_b"):
        assert api_for(getattr(personas, role)).get(f"/billing/patients/{pat}/balance").status_code == 403
    assert api_for(None).get(f"/billing/patients/{pat}/balance").status_code == 401
    client = api_for(personas.billing_a)
    balance = client.get(f"/billing/patients/{pat}/balance")
    assert balance.status_code == 200 and balance.json()["due_cents"] == 2_500
    ledger = client.get(f"/billing/patients/{pat}/ledger").json()
    assert ledger["balance"]["due_cents"] == 2_500
    assert ledger["charges"][0]["adjudications"][0]["copay_cents"] == 2_500
    assert ledger["claims"][0]["status"] == "paid"
    assert (
        AuditEntry.objects.filter(patient_id=pat, action="view", detail__startswith="api billing").count()
        == 2
    )
    assert client.get(f"/billing/patients/{personas.quinn.pk}/balance").status_code == 403
    assert client.get("/billing/patients/999999/balance").status_code == 404


def test_the_openapi_schema_documents_the_billing_routes(personas: Personas) -> None:
    schema = api_for(personas.billing_a).get("/openapi.json").json()
    assert {"/api/v1/billing/imports", "/api/v1/billing/patients/{patient_id}/balance",
            "/api/v1/billing/patients/{patient_id}/ledger"} <= set(schema["paths"])  # fmt: skip
    operation = schema["paths"]["/api/v1/billing/imports"]["post"]
    assert {"200", "422"} <= set(operation["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in operation["parameters"])
    assert "ImportIn" in schema["components"]["schemas"]
    assert schema["components"]["schemas"]["ImportIn"].get("examples")
