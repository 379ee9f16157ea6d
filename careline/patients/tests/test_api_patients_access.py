"""Who may use /api/v1/patients, with which token, and what the audit trail records."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from careline.accounts.models import ApiToken
from careline.core.models import AuditAction, AuditChannel, AuditEntry
from careline.patients.models import Patient
from careline.patients.tests.api_support import ApiClient, api_for, make_token

pytestmark = pytest.mark.django_db


def new_patient_body(personas, **overrides):
    body = {
        "legal_first_name": "Robin",
        "legal_last_name": "Nguyen",
        "date_of_birth": "1990-02-03",
        "primary_location_id": personas.location_a.pk,
        "phones": ["(312) 555-0199"],
    }
    body.update(overrides)
    return body


# --- each persona against each route ------------------------------------------------------------------

LIST_STATUS = {"admin": 200, "front_a": 200, "clinician_a": 200, "billing_a": 200, "front_b": 200}
READ_PAT_STATUS = {"admin": 200, "front_a": 200, "clinician_a": 200, "billing_a": 200, "front_b": 403}
CREATE_AT_A_STATUS = {"admin": 201, "front_a": 201, "clinician_a": 403, "billing_a": 403, "front_b": 403}
PATCH_PAT_STATUS = {"admin": 200, "front_a": 200, "clinician_a": 200, "billing_a": 403, "front_b": 403}


@pytest.mark.parametrize("who", sorted(LIST_STATUS))
def test_list_is_open_to_staff_but_scoped_to_their_locations(personas, who):
    response = api_for(personas.staff[who]).get("/patients")
    assert response.status_code == LIST_STATUS[who]
    mrns = {item["mrn"] for item in response.json()["items"]}
    if who in {"admin"}:
        assert mrns == {"MRN-PAT-1", "MRN-QUINN-2"}
    elif who == "front_b":
        assert mrns == {"MRN-QUINN-2"}
    else:
        assert mrns == {"MRN-PAT-1"}


@pytest.mark.parametrize("who", sorted(READ_PAT_STATUS))
def test_reading_pat_needs_a_token_of_someone_at_pats_location(personas, who):
    response = api_for(personas.staff[who]).get(f"/patients/{personas.pat.pk}")
    assert response.status_code == READ_PAT_STATUS[who]
    if response.status_code == 200:
        assert response.json()["mrn"] == "MRN-PAT-1"
        assert response.json()["phones"][0]["number"] == "+13125550111"
    else:
        assert response.json() == {"detail": "You do not have permission to do this.", "errors": []}


@pytest.mark.parametrize("who", sorted(CREATE_AT_A_STATUS))
def test_registering_at_location_a_needs_create_permission_there(personas, who):
    before = Patient.objects.count()
    response = api_for(personas.staff[who]).post("/patients", new_patient_body(personas))
    assert response.status_code == CREATE_AT_A_STATUS[who], response.content
    assert Patient.objects.count() == before + (1 if response.status_code == 201 else 0)


@pytest.mark.parametrize("who", sorted(PATCH_PAT_STATUS))
def test_changing_pat_needs_edit_permission_and_pats_location(personas, who):
    response = api_for(personas.staff[who]).patch(f"/patients/{personas.pat.pk}", {"pronouns": "she/her"})
    assert response.status_code == PATCH_PAT_STATUS[who]
    personas.pat.refresh_from_db()
    assert (personas.pat.pronouns == "she/her") == (response.status_code == 200)


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/patients"), ("get", "/patients/{pk}"), ("post", "/patients"), ("patch", "/patients/{pk}")],
)
def test_outsider_without_token_gets_401_json(personas, method, path):
    client = ApiClient(None)
    target = path.format(pk=personas.pat.pk)
    response = client.get(target) if method == "get" else getattr(client, method)(target, {"pronouns": "x"})
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["errors"] == []
    assert "Bearer" in response.json()["detail"]


def test_a_signed_in_browser_session_is_not_an_api_credential(personas, client_for):
    response = client_for(personas.admin).get(f"/api/v1/patients/{personas.pat.pk}")
    assert response.status_code == 401


def test_front_desk_cannot_move_a_patient_to_a_location_not_theirs(personas):
    response = api_for(personas.front_a).patch(
        f"/patients/{personas.pat.pk}", {"primary_location_id": personas.location_b.pk}
    )
    assert response.status_code == 403
    personas.pat.refresh_from_db()
    assert personas.pat.primary_location_id == personas.location_a.pk


def test_front_desk_b_cannot_find_pat_by_search(personas):
    response = api_for(personas.front_b).get("/patients", {"q": "Ortega"})
    assert response.status_code == 200
    assert response.json()["items"] == []


# --- tokens ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "Bearer cl_not-a-real-token",
        "Bearer ",
        "Basic YWRtaW46cGFzcw==",
        "cl_missing_scheme",
        "Bearer " + "x" * 5000,
    ],
)
def test_unknown_or_malformed_tokens_get_401(personas, header):
    response = ApiClient(None).client.get("/api/v1/patients", headers={"Authorization": header})
    assert response.status_code == 401


def test_revoked_token_gets_401(personas):
    secret = make_token(personas.front_a)
    client = ApiClient(secret)
    assert client.get("/patients").status_code == 200
    ApiToken.objects.filter(user=personas.front_a).update(revoked_at=timezone.now())
    assert client.get("/patients").status_code == 401


def test_token_of_a_deactivated_user_gets_401(personas):
    client = api_for(personas.front_a)
    personas.front_a.is_active = False
    personas.front_a.save()
    assert client.get("/patients").status_code == 401


def test_last_used_is_written_at_most_once_a_minute(personas):
    secret = make_token(personas.front_a)
    client = ApiClient(secret)
    token = ApiToken.objects.get(user=personas.front_a)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.get("/patients")
        token.refresh_from_db()
        assert token.last_used_at == start
    with time_machine.travel(start + timedelta(seconds=59), tick=False):
        client.get("/patients")
        token.refresh_from_db()
        assert token.last_used_at == start
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        client.get("/patients")
        token.refresh_from_db()
        assert token.last_used_at == start + timedelta(seconds=61)


# --- audit ------------------------------------------------------------------------------------------------


def test_reading_a_patient_is_audited_as_a_view_on_the_api_channel(personas):
    api_for(personas.clinician_a).get(f"/patients/{personas.pat.pk}")
    entry = AuditEntry.objects.get(action=AuditAction.VIEW)
    assert entry.patient_id == personas.pat.pk
    assert entry.actor == personas.clinician_a
    assert entry.channel == AuditChannel.API


def test_refused_read_leaves_no_view_entry(personas):
    api_for(personas.front_b).get(f"/patients/{personas.pat.pk}")
    assert not AuditEntry.objects.filter(action=AuditAction.VIEW).exists()


def test_search_is_audited_with_the_ids_returned(personas):
    api_for(personas.front_a).get("/patients", {"q": "Ortega"})
    entry = AuditEntry.objects.get(action=AuditAction.SEARCH)
    assert entry.channel == AuditChannel.API
    assert entry.actor == personas.front_a
    assert entry.detail.endswith(f"returned ids: {personas.pat.pk}")
    assert "Ortega" not in entry.detail


def test_create_and_update_are_audited_on_the_api_channel(personas):
    client = api_for(personas.front_a)
    created = client.post("/patients", new_patient_body(personas)).json()
    client.patch(f"/patients/{created['id']}", {"preferred_name": "Rob"})
    create = AuditEntry.objects.get(action=AuditAction.CREATE)
    update = AuditEntry.objects.get(action=AuditAction.UPDATE)
    assert (create.channel, create.patient_id, create.actor) == (
        AuditChannel.API,
        created["id"],
        personas.front_a,
    )
    assert (update.channel, update.patient_id) == (AuditChannel.API, created["id"])
    assert "preferred_name" in update.detail


# --- documentation ------------------------------------------------------------------------------------------


def test_openapi_document_describes_the_patient_routes(personas):
    response = api_for(personas.front_a).get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert {"/api/v1/patients", "/api/v1/patients/{patient_id}"} <= set(document["paths"])
    assert "bearer" in str(document["components"]["securitySchemes"]).lower()


def test_docs_page_loads_nothing_from_another_site(personas):
    response = api_for(personas.front_a).get("/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    assert "http://" not in html
    assert "https://" not in html
    assert 'src="//' not in html
    assert 'href="//' not in html
    assert '"validatorUrl": null' in html
