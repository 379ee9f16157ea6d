"""Sign-in throttling by account-and-address and by address, and the administrators' ways to unlock."""

from __future__ import annotations

from io import StringIO

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client, RequestFactory
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from careline.accounts.models import User
from careline.accounts.tests.helpers import is_signed_in
from careline.core.models import AuditAction, AuditEntry
from careline.core.network import client_ip
from careline.testing.personas import PASSWORD

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.7"
OWNER = "198.51.100.20"


def _login(client: Client, email: str, password: str, address: str) -> int:
    response = client.post(
        reverse("accounts:login"), {"email": email, "password": password}, REMOTE_ADDR=address
    )
    return response.status_code


def _accounts(count: int) -> list[str]:
    emails = [f"staff{n}@example.test" for n in range(count)]
    for email in emails:
        User.objects.create_user(email, PASSWORD, full_name=email)
    return emails


def test_one_address_guessing_over_many_accounts_is_throttled(personas, client):
    emails = _accounts(6)
    limit = settings.CARELINE_LOGIN_ADDRESS_FAILURE_LIMIT
    statuses = [_login(client, emails[n % 6], "wrong password here", ATTACKER) for n in range(24)]
    assert statuses[: limit - 1] == [200] * (limit - 1)
    assert set(statuses[limit:]) == {429}
    # Even the right password for an untouched account is refused from that address now...
    assert _login(Client(), "front.a@example.test", PASSWORD, ATTACKER) == 429
    # ...but the account's owner elsewhere signs in.
    owner = Client()
    assert _login(owner, "front.a@example.test", PASSWORD, OWNER) == 302
    assert is_signed_in(owner)


def test_a_locked_account_still_signs_in_from_its_owners_address(personas, client):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "front.a@example.test", "wrong password here", ATTACKER)
    assert _login(client, "front.a@example.test", PASSWORD, ATTACKER) == 429
    owner = Client()
    assert _login(owner, "front.a@example.test", PASSWORD, OWNER) == 302
    assert owner.session["_auth_user_id"] == str(personas.front_a.pk)


def test_a_success_elsewhere_does_not_wipe_the_addresss_failures(personas, client):
    limit = settings.CARELINE_LOGIN_ADDRESS_FAILURE_LIMIT
    emails = _accounts(5)
    for n in range(limit - 1):
        _login(client, emails[n % 5], "wrong password here", ATTACKER)
    # The attacker's own valid account signs in from the same address; the guesses still count.
    assert _login(Client(), "billing.a@example.test", PASSWORD, ATTACKER) == 302
    assert _login(client, emails[0], "wrong password here", ATTACKER) == 429


def test_an_administrator_unlocks_an_account_on_its_staff_page(personas, client, client_for):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "front.a@example.test", "wrong password here", ATTACKER)
    assert _login(client, "front.a@example.test", PASSWORD, ATTACKER) == 429
    page = client_for(personas.admin).get(reverse("accounts:staff_edit", args=[personas.front_a.pk]))
    assert "Recent wrong passwords or codes for this account from 1 address" in page.content.decode()
    url = reverse("accounts:staff_unlock", args=[personas.front_a.pk])
    assert client_for(personas.front_a).post(url).status_code == 403
    assert client_for(None).post(url).status_code == 302
    assert AccessAttempt.objects.exists()
    response = client_for(personas.admin).post(url)
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username__iexact="front.a@example.test").exists()
    entry = AuditEntry.objects.get(action=AuditAction.ADMIN, detail__startswith="sign-in lock lifted")
    assert entry.actor == personas.admin
    assert entry.object_id == str(personas.front_a.pk)
    assert _login(Client(), "front.a@example.test", PASSWORD, ATTACKER) == 302


def test_the_unlock_command_clears_the_lock_and_the_code_delay(personas, client):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "admin@example.test", "wrong password here", ATTACKER)
    device = TOTPDevice.objects.get(user=personas.admin, confirmed=True)
    device.throttle_increment()
    out = StringIO()
    call_command("unlock_account", "ADMIN@example.test", stdout=out)
    assert "can sign in again" in out.getvalue()
    device.refresh_from_db()
    assert device.throttling_failure_count == 0
    assert not AccessAttempt.objects.exists()
    assert AuditEntry.objects.filter(action=AuditAction.ADMIN, channel="command").exists()
    with pytest.raises(CommandError, match="No staff account"):
        call_command("unlock_account", "nobody@example.test")


def test_client_ip_trusts_only_the_configured_proxies(settings):
    factory = RequestFactory()
    request = factory.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.9")
    settings.CARELINE_TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.1"
    settings.CARELINE_TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "198.51.100.9"
    settings.CARELINE_TRUSTED_PROXY_COUNT = 2
    assert client_ip(request) == "1.2.3.4"
    settings.CARELINE_TRUSTED_PROXY_COUNT = 3
    assert client_ip(request) == "10.0.0.1"
    bad = factory.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="not-an-address")
    settings.CARELINE_TRUSTED_PROXY_COUNT = 1
    assert client_ip(bad) == "10.0.0.1"


def test_the_unlock_command_can_also_lift_an_address_lock(personas, client):
    emails = _accounts(4)
    for n in range(settings.CARELINE_LOGIN_ADDRESS_FAILURE_LIMIT):
        _login(client, emails[n % 4], "wrong password here", ATTACKER)
    assert _login(Client(), "front.a@example.test", PASSWORD, ATTACKER) == 429
    call_command("unlock_account", "front.a@example.test", "--address", ATTACKER, stdout=StringIO())
    assert _login(Client(), "front.a@example.test", PASSWORD, ATTACKER) == 302
    assert AuditEntry.objects.filter(detail__contains=f"addresses {ATTACKER}").exists()
