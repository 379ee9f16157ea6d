"""API tokens may expire, show when they were last used, and an administrator's token needs their MFA."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from careline.accounts.models import ApiToken
from careline.accounts.services import StaffRuleError, api_token_create
from careline.core.actor import Actor
from careline.core.permissions import Role
from careline.patients.tests.api_support import ApiClient
from careline.testing.personas import make_staff

pytestmark = pytest.mark.django_db

START = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)


def _works(secret: str) -> bool:
    return ApiClient(secret).get("/patients").status_code == 200


def test_a_token_with_a_lifetime_stops_working_when_it_expires(personas, client_for):
    with time_machine.travel(START, tick=False) as traveller:
        client = client_for(personas.admin)
        response = client.post(
            reverse("accounts:api_tokens"),
            {"user": personas.front_a.pk, "name": "EHR sync", "expires_in_days": "30"},
            follow=True,
        )
        assert response.status_code == 200
        secret = response.context["new_secret"]
        token = ApiToken.objects.get()
        assert token.expires_at == START + timedelta(days=30)
        assert _works(secret)
        listing = client.get(reverse("accounts:api_tokens")).content.decode()
        assert f"{timezone.localtime(token.expires_at):%Y-%m-%d}" in listing
        assert f"{timezone.localtime(START):%Y-%m-%d %H:%M}" in listing  # last used, shown to administrators
        traveller.shift(timedelta(days=30, seconds=1))
        assert not _works(secret)
        assert "Expired" in client_for(personas.admin).get(reverse("accounts:api_tokens")).content.decode()


def test_never_expiring_is_a_choice(personas, client_for):
    client = client_for(personas.admin)
    response = client.post(
        reverse("accounts:api_tokens"),
        {"user": personas.front_a.pk, "name": "EHR sync", "expires_in_days": ""},
    )
    assert response.status_code == 303
    assert ApiToken.objects.get().expires_at is None
    bad = client.post(
        reverse("accounts:api_tokens"), {"user": personas.front_a.pk, "name": "x", "expires_in_days": "99999"}
    )
    assert bad.status_code == 400
    assert ApiToken.objects.count() == 1


def test_an_administrator_without_mfa_gets_no_token(personas, client_for):
    second_admin = make_staff("second.admin@example.test", "Sam Admin", [Role.ADMIN], [personas.location_a])
    response = client_for(personas.admin).post(
        reverse("accounts:api_tokens"), {"user": second_admin.pk, "name": "Script", "expires_in_days": "30"}
    )
    assert response.status_code == 400
    assert "two-factor sign-in" in response.content.decode()
    assert not ApiToken.objects.exists()
    with pytest.raises(StaffRuleError):
        api_token_create(user=second_admin, name="Script", actor=Actor.system("test"))


def test_an_administrators_token_stops_when_their_mfa_is_removed(personas):
    _, secret = api_token_create(user=personas.admin, name="Script", actor=Actor.system("test"))
    assert _works(secret)
    TOTPDevice.objects.filter(user=personas.admin).delete()
    assert not _works(secret)


def test_the_command_can_set_a_lifetime(personas, capsys):
    with time_machine.travel(START, tick=False):
        call_command("create_api_token", "front.a@example.test", "--expires-days", "7")
    assert ApiToken.objects.get().expires_at == START + timedelta(days=7)
