"""The API's schema (/api/v1/openapi.json) and its docs page (/api/v1/docs) need a signed-in staff session
(past two-factor sign-in where the account needs it) or an active API token; anyone else is refused."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from careline.accounts.models import ApiToken
from careline.patients.tests.api_support import make_token

pytestmark = pytest.mark.django_db

SCHEMA = "/api/v1/openapi.json"
DOCS = "/api/v1/docs"


def test_an_anonymous_visitor_gets_neither_the_schema_nor_the_docs(personas):
    client = Client()
    schema = client.get(SCHEMA)
    assert schema.status_code == 401
    assert schema["WWW-Authenticate"].startswith("Bearer")
    assert "paths" not in schema.json()
    docs = client.get(DOCS)
    assert docs.status_code == 302
    assert docs["Location"].startswith(reverse("accounts:login"))
    assert "next=/api/v1/docs" in docs["Location"]


@pytest.mark.parametrize("who", ["front_a", "billing_a", "admin"])
def test_signed_in_staff_read_the_schema_and_the_docs(personas, client_for, who):
    client = client_for(personas.staff[who])
    schema = client.get(SCHEMA)
    assert schema.status_code == 200
    assert "/api/v1/patients" in schema.json()["paths"]
    docs = client.get(DOCS)
    assert docs.status_code == 200
    assert "swagger-ui" in docs.content.decode()


def test_an_active_token_reads_the_schema_and_the_docs(personas):
    headers = {"Authorization": f"Bearer {make_token(personas.front_a)}"}
    assert Client().get(SCHEMA, headers=headers).status_code == 200
    assert Client().get(DOCS, headers=headers).status_code == 200


def test_an_unknown_or_revoked_token_is_refused(personas):
    secret = make_token(personas.front_a)
    ApiToken.objects.update(revoked_at="2020-01-01T00:00:00Z")
    for value in (secret, "not-a-token", ""):
        response = Client().get(SCHEMA, headers={"Authorization": f"Bearer {value}"})
        assert response.status_code == 401


def test_an_administrator_short_of_two_factor_sign_in_is_refused(personas):
    client = Client()
    client.force_login(personas.admin)  # signed in with a password, code not yet given
    assert client.get(SCHEMA).status_code == 401
    assert client.get(DOCS).status_code == 302


def test_a_deactivated_account_is_refused(personas, client_for):
    client = client_for(personas.front_a)
    personas.front_a.is_active = False
    personas.front_a.save()
    assert client.get(SCHEMA).status_code == 401
