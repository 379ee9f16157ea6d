from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from careline.accounts.tests.helpers import is_signed_in
from careline.core.models import AuditAction, AuditEntry

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
IDLE = timedelta(minutes=settings.CARELINE_IDLE_TIMEOUT_MINUTES)
PROFILE = "/accounts/profile"


def test_idle_session_is_signed_out(personas, client_for):
    with time_machine.travel(START, tick=False) as traveller:
        client = client_for(personas.front_a)
        assert client.get(PROFILE).status_code == 200
        traveller.shift(IDLE - timedelta(minutes=1))
        assert client.get(PROFILE).status_code == 200
        traveller.shift(IDLE + timedelta(minutes=1))
        response = client.get(PROFILE)
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('accounts:login')}?next={PROFILE}"
        assert not is_signed_in(client)
        entry = AuditEntry.objects.get(action=AuditAction.LOGOUT, detail__startswith="automatic")
        assert "inactivity" in entry.detail


def test_background_requests_do_not_count_as_activity(personas, client_for):
    with time_machine.travel(START, tick=False) as traveller:
        client = client_for(personas.front_a)
        client.get(PROFILE)
        traveller.shift(IDLE - timedelta(minutes=2))
        assert client.get(PROFILE, headers={"X-Careline-Background": "1"}).status_code == 200
        traveller.shift(timedelta(minutes=3))
        assert client.get(PROFILE).status_code == 302
        assert not is_signed_in(client)


def test_foreground_requests_keep_the_session(personas, client_for):
    with time_machine.travel(START, tick=False) as traveller:
        client = client_for(personas.front_a)
        client.get(PROFILE)
        traveller.shift(IDLE - timedelta(minutes=2))
        client.get(PROFILE)
        traveller.shift(timedelta(minutes=3))
        assert client.get(PROFILE).status_code == 200


def test_session_ends_at_the_maximum_age_however_active(personas, client_for):
    max_age = timedelta(hours=settings.CARELINE_SESSION_MAX_AGE_HOURS)
    step = IDLE - timedelta(minutes=1)
    with time_machine.travel(START, tick=False) as traveller:
        client = client_for(personas.front_a)
        client.get(PROFILE)
        elapsed = timedelta(0)
        while elapsed + step < max_age:
            traveller.shift(step)
            elapsed += step
            assert client.get(PROFILE).status_code == 200, elapsed
        traveller.shift(max_age - elapsed + timedelta(minutes=1))
        assert client.get(PROFILE).status_code == 302
        entry = AuditEntry.objects.get(action=AuditAction.LOGOUT, detail__startswith="automatic")
        assert "maximum session length" in entry.detail


def test_htmx_request_after_idle_gets_401_with_redirect(personas, client_for):
    with time_machine.travel(START, tick=False) as traveller:
        client = client_for(personas.front_a)
        client.get(PROFILE)
        traveller.shift(IDLE + timedelta(minutes=1))
        response = client.get(PROFILE, headers={"HX-Request": "true"})
        assert response.status_code == 401
        assert response["HX-Redirect"] == reverse("accounts:login")


@pytest.mark.parametrize("url", ["/accounts/login", PROFILE, "/accounts/staff", "/locations/"])
def test_pages_are_not_stored_by_caches(personas, client_for, url):
    response = client_for(personas.admin).get(url)
    assert "no-store" in response["Cache-Control"]


def test_production_password_hasher_is_argon2():
    # The test fixture swaps in MD5 for speed; the settings module itself must keep Argon2 first.
    import careline.settings as real_settings

    assert real_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
