"""Wrong portal passwords are counted in the database per sign-in name and per address; past the limit the
page says to wait, use a code or reset, for an account or not alike. Staff unlock clears the count."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from careline.core.actor import Actor
from careline.core.models import AuditEntry
from careline.portal.services.account_admin import portal_account_unlock
from careline.testing.portal import PORTAL_PASSWORD, portal_account_for, portal_trust_device

pytestmark = pytest.mark.django_db

SIGNIN = reverse("portal:signin")
LIMITED = "Too many wrong passwords"


def _try(client, identifier="pat@example.test", password="wrong password"):
    return client.post(SIGNIN, {"identifier": identifier, "password": password})


@pytest.mark.parametrize("identifier", ["pat@example.test", "nobody@example.test"], ids=["account", "none"])
def test_five_wrong_passwords_block_the_name_whether_or_not_it_has_an_account(personas, identifier):
    account = portal_account_for(personas.pat)
    for number in range(5):
        assert _try(Client(REMOTE_ADDR=f"10.0.0.{number}"), identifier).status_code == 400
    response = _try(Client(REMOTE_ADDR="10.0.1.1"), identifier, PORTAL_PASSWORD)
    assert response.status_code == 429 and LIMITED in response.content.decode()
    assert "sign in with a code" in response.content.decode()
    assert AuditEntry.objects.filter(action="locked_out", detail="portal: too many wrong passwords").exists()
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        client = portal_trust_device(Client(), account)
        response = _try(client, "pat@example.test", PORTAL_PASSWORD)
    assert response.status_code == 302


def test_an_address_is_blocked_after_guessing_at_many_names(personas, settings):
    settings.CARELINE_PORTAL_ADDRESS_FAILURE_LIMIT = 6
    account = portal_account_for(personas.pat)
    for number in range(6):
        _try(Client(REMOTE_ADDR="10.9.9.9"), f"person{number}@example.test")
    blocked = _try(portal_trust_device(Client(REMOTE_ADDR="10.9.9.9"), account), password=PORTAL_PASSWORD)
    assert blocked.status_code == 429
    elsewhere = _try(portal_trust_device(Client(REMOTE_ADDR="10.1.1.1"), account), password=PORTAL_PASSWORD)
    assert elsewhere.status_code == 302


def test_a_right_password_clears_the_names_count(personas):
    account = portal_account_for(personas.pat)
    for _ in range(4):
        _try(Client())
    assert _try(portal_trust_device(Client(), account), password=PORTAL_PASSWORD).status_code == 302
    for _ in range(4):
        assert _try(Client()).status_code == 400


def test_staff_unlock_clears_the_count(personas):
    account = portal_account_for(personas.pat)
    for _ in range(5):
        _try(Client())
    portal_account_unlock(account=account, actor=Actor.staff(personas.front_a))
    assert _try(portal_trust_device(Client(), account), password=PORTAL_PASSWORD).status_code == 302
