"""/api/v1/messages: who may text whom, idempotent retries, listing with states, and the audit trail."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from careline.core.models import AuditAction, AuditChannel, AuditEntry
from careline.messaging.models import Message, MessageState
from careline.messaging.tests.h3_support import PERSONAS
from careline.patients.tests.api_support import ApiClient, api_for, make_token

pytestmark = pytest.mark.django_db

NOON = datetime(2030, 3, 5, 12, 0, tzinfo=ZoneInfo("America/Chicago"))
SEND_TO_PAT = {"admin": 201, "front_a": 201, "clinician_a": 201, "billing_a": 201, "front_b": 403}


def post(client: ApiClient, body, key: str | None = None):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.client.post(
        "/api/v1/messages", body, content_type="application/json", headers={**client.headers, **headers}
    )


@pytest.mark.parametrize("who", PERSONAS)
def test_texting_pat_needs_a_token_of_someone_at_pats_location(personas, who):
    response = post(api_for(personas.staff[who]), {"patient_id": personas.pat.pk, "body": "Hello Pat"})
    assert response.status_code == SEND_TO_PAT[who]
    if response.status_code == 201:
        assert response.json()["state"] in {"queued", "sent", "delivered"}
        assert response.json()["to_address"] == "+13125550111"
    else:
        assert response.json() == {"detail": "You do not have permission to do this.", "errors": []}
        assert not Message.objects.exists()


@pytest.mark.parametrize("who", PERSONAS)
def test_listing_pats_messages_needs_access_to_pat(personas, who):
    response = api_for(personas.staff[who]).get("/messages", {"patient_id": personas.pat.pk})
    assert response.status_code == (403 if who == "front_b" else 200)


def test_anonymous_and_bad_tokens_get_401(personas):
    for client in (ApiClient(None), ApiClient("not-a-token")):
        assert post(client, {"patient_id": personas.pat.pk, "body": "Hi"}).status_code == 401
        response = client.get("/messages", {"patient_id": personas.pat.pk})
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert not Message.objects.exists()


@time_machine.travel(NOON, tick=False)
def test_the_same_idempotency_key_returns_the_first_message(personas):
    client = api_for(personas.front_a)
    body = {"patient_id": personas.pat.pk, "body": "Your forms are ready"}
    first = post(client, body, key="retry-123")
    again = post(client, body, key="retry-123")
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert Message.objects.count() == 1
    assert Message.objects.get().idempotency_key == f"api:{personas.front_a.pk}:retry-123"


def test_the_same_key_with_another_body_is_a_conflict(personas):
    client = api_for(personas.front_a)
    assert post(client, {"patient_id": personas.pat.pk, "body": "One"}, key="k1").status_code == 201
    response = post(client, {"patient_id": personas.pat.pk, "body": "Two"}, key="k1")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "This Idempotency-Key was already used for a different request.",
        "errors": [],
    }
    assert Message.objects.count() == 1


def test_keys_are_namespaced_per_token_user(personas):
    body = {"patient_id": personas.pat.pk, "body": "Same words"}
    a = post(api_for(personas.front_a), body, key="shared")
    b = post(api_for(personas.clinician_a), body, key="shared")
    assert a.json()["id"] != b.json()["id"]
    assert Message.objects.count() == 2


def test_without_a_key_each_request_sends(personas):
    client = api_for(personas.front_a)
    body = {"patient_id": personas.pat.pk, "body": "Hi"}
    post(client, body)
    post(client, body)
    assert Message.objects.count() == 2


@time_machine.travel(NOON, tick=False)
def test_send_at_schedules_the_message(personas):
    response = post(
        api_for(personas.front_a),
        {"patient_id": personas.pat.pk, "body": "Later", "send_at": "2030-03-06T10:00:00-06:00"},
    )
    assert response.status_code == 201
    data = response.json()
    assert data["scheduled"]
    assert data["state"] == "queued"
    assert datetime.fromisoformat(data["due_at"]) == datetime(2030, 3, 6, 16, 0, tzinfo=ZoneInfo("UTC"))
    assert Message.objects.get().due_at == datetime(2030, 3, 6, 16, 0, tzinfo=ZoneInfo("UTC"))


def test_bad_input_gets_the_usual_error_shape(personas):
    client = api_for(personas.front_a)
    cases = [
        ({"patient_id": personas.pat.pk, "body": "   "}, "body"),
        ({"patient_id": personas.pat.pk, "body": "x" * 5000}, "body"),
        ({"patient_id": personas.pat.pk, "body": "Hi", "send_at": "2030-03-06T10:00:00"}, "send_at"),
        ({"patient_id": personas.pat.pk, "body": "Hi", "send_at": "2999-03-06T10:00:00Z"}, "send_at"),
        ({"patient_id": personas.pat.pk, "body": "Hi", "extra": 1}, "extra"),
        ({"body": "Hi"}, "patient_id"),
    ]
    for body, field in cases:
        response = post(client, body)
        assert response.status_code == 422, body
        assert field in {error["field"] for error in response.json()["errors"]}, response.json()
    bad_key = post(client, {"patient_id": personas.pat.pk, "body": "Hi"}, key="x" * 500)
    assert bad_key.status_code == 422
    assert bad_key.json()["errors"][0]["field"] == "Idempotency-Key"
    assert post(client, {"patient_id": 999999, "body": "Hi"}).status_code == 404
    assert not Message.objects.exists()


def test_a_patient_without_consent_is_recorded_as_suppressed_not_sent(personas):
    response = post(api_for(personas.front_b), {"patient_id": personas.quinn.pk, "body": "Hola"})
    # A staff message needs no prior consent, only no opt-out; an opted-out number is suppressed.
    assert response.status_code == 201
    from django.utils import timezone

    from careline.patients.models import ConsentEvent, ConsentKind, ConsentMethod

    ConsentEvent.objects.create(
        phone_number="+14155550122",
        kind=ConsentKind.REVOKED,
        method=ConsentMethod.KEYWORD,
        occurred_at=timezone.now(),
    )
    suppressed = post(api_for(personas.front_b), {"patient_id": personas.quinn.pk, "body": "Hola otra vez"})
    assert suppressed.json()["state"] == MessageState.SUPPRESSED
    assert suppressed.json()["suppression_reason"] == "opted_out"


def test_list_is_paginated_newest_first_and_audited_on_the_api_channel(personas):
    client = api_for(personas.front_a)
    for n in range(3):
        post(client, {"patient_id": personas.pat.pk, "body": f"Message {n}"})
    page = client.get("/messages", {"patient_id": personas.pat.pk, "limit": 2}).json()
    assert [item["body"] for item in page["items"]] == ["Message 2", "Message 1"]
    assert page["has_more"]
    assert page["next_offset"] == 2
    rest = client.get("/messages", {"patient_id": personas.pat.pk, "limit": 2, "offset": 2}).json()
    assert [item["body"] for item in rest["items"]] == ["Message 0"]
    assert not rest["has_more"]
    views = AuditEntry.objects.filter(
        action=AuditAction.VIEW, patient_id=personas.pat.pk, channel=AuditChannel.API
    )
    assert views.count() == 2
    creates = AuditEntry.objects.filter(
        action=AuditAction.CREATE, patient_id=personas.pat.pk, channel=AuditChannel.API
    )
    assert creates.count() == 3
    assert client.get("/messages", {"patient_id": personas.pat.pk, "limt": 2}).status_code == 422


def test_a_revoked_token_stops_working(personas):
    secret = make_token(personas.front_a)
    from django.utils import timezone

    from careline.accounts.models import ApiToken

    ApiToken.objects.update(revoked_at=timezone.now())
    assert post(ApiClient(secret), {"patient_id": personas.pat.pk, "body": "Hi"}).status_code == 401


def test_a_too_long_text_says_so_and_a_too_large_request_is_413(personas, settings):
    client = api_for(personas.front_a)
    limit = settings.CARELINE_MAX_MESSAGE_LENGTH
    response = post(client, {"patient_id": personas.pat.pk, "body": "x" * (limit + 1)})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [error["field"] for error in errors] == ["body"]
    assert "Send a JSON object." not in errors[0]["message"]
    assert str(limit) in errors[0]["message"]
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    response = post(client, {"patient_id": personas.pat.pk, "body": "x" * 4000})
    assert response.status_code == 413
    assert response.json()["detail"] == "The request body is too large."
    assert not Message.objects.exists()
