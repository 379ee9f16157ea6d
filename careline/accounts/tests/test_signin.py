from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY

from careline.accounts.tests.helpers import is_signed_in, post_login
from careline.core.models import AuditAction, AuditEntry
from careline.testing.personas import PASSWORD

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def test_login_page_renders_for_outsider(client):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    assert b'name="email"' in response.content
    assert b'autocomplete="current-password"' in response.content


def test_signed_in_person_visiting_login_page_goes_on(personas, client_for):
    response = client_for(personas.front_a).get(reverse("accounts:login"))
    assert response.status_code == 302
    assert response["Location"] == reverse("patients:list")


def test_right_password_signs_in_and_is_audited(personas, client):
    response = post_login(client, "front.a@example.test", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("patients:list")
    assert client.session["_auth_user_id"] == str(personas.front_a.pk)
    entry = AuditEntry.objects.filter(action=AuditAction.LOGIN).get()
    assert entry.actor == personas.front_a
    assert entry.ip_address == "127.0.0.1"


def test_email_is_not_case_sensitive(personas, client):
    post_login(client, "  Front.A@Example.TEST ", PASSWORD)
    assert is_signed_in(client)


def test_wrong_password_gets_one_generic_message_and_is_audited(personas, client):
    wrong_password = post_login(client, "front.a@example.test", "not the password at all")
    unknown_email = post_login(client, "nobody@example.test", PASSWORD)
    for response in (wrong_password, unknown_email):
        assert response.status_code == 200
        assert b"The email address or password is not right." in response.content
    assert not is_signed_in(client)
    failed = AuditEntry.objects.filter(action=AuditAction.LOGIN_FAILED).order_by("id")
    assert [entry.actor_label for entry in failed] == ["front.a@example.test", "nobody@example.test"]
    assert "not the password" not in " ".join(entry.detail for entry in failed)


def test_deactivated_account_cannot_sign_in(personas, client):
    personas.front_a.is_active = False
    personas.front_a.save()
    response = post_login(client, "front.a@example.test", PASSWORD)
    assert b"The email address or password is not right." in response.content
    assert not is_signed_in(client)


def test_blank_form_is_refused_with_messages(client):
    response = client.post(reverse("accounts:login"), {"email": "", "password": ""})
    assert response.status_code == 200
    assert b"This field is required." in response.content


def test_session_key_changes_at_sign_in(personas, client):
    before = client.session.session_key
    post_login(client, "front.a@example.test", PASSWORD)
    assert is_signed_in(client)
    assert client.session.session_key != before


def test_safe_next_is_followed(personas, client):
    response = post_login(client, "front.a@example.test", PASSWORD, next_url="/accounts/profile")
    assert response["Location"] == "/accounts/profile"


@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example/steal", "//evil.example/", "javascript:alert(1)", "http://testserver.evil/"],
)
def test_next_to_another_site_is_ignored(personas, client, next_url):
    response = post_login(client, "front.a@example.test", PASSWORD, next_url=next_url)
    assert response["Location"] == reverse("patients:list")


def test_lockout_after_the_limit_even_with_the_right_password(personas, client):
    limit = settings.AXES_FAILURE_LIMIT
    with time_machine.travel(START, tick=False) as traveller:
        for _ in range(limit - 1):
            assert post_login(client, "front.a@example.test", "wrong password here").status_code == 200
        locked = post_login(client, "front.a@example.test", "wrong password here")
        assert locked.status_code == 429
        assert b"Sign-in paused" in locked.content
        assert b"ask an administrator" in locked.content
        assert AuditEntry.objects.filter(action=AuditAction.LOCKED_OUT).exists()

        right_password = post_login(client, "front.a@example.test", PASSWORD)
        assert right_password.status_code == 429
        assert not is_signed_in(client)

        # Another account at the same address is not affected: the lock is per account and address.
        post_login(client, "nurse.a@example.test", PASSWORD)
        assert client.session["_auth_user_id"] == str(personas.clinician_a.pk)
        client.post(reverse("accounts:logout"))

        traveller.shift(settings.AXES_COOLOFF_TIME - timedelta(minutes=1))
        assert post_login(client, "front.a@example.test", PASSWORD).status_code == 429
        traveller.shift(timedelta(minutes=2))
        response = post_login(client, "front.a@example.test", PASSWORD)
        assert response.status_code == 302
        assert client.session["_auth_user_id"] == str(personas.front_a.pk)


def test_success_resets_the_failure_count(personas, client):
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        post_login(client, "front.a@example.test", "wrong password here")
    post_login(client, "front.a@example.test", PASSWORD)
    client.post(reverse("accounts:logout"))
    for _ in range(limit - 1):
        assert post_login(client, "front.a@example.test", "wrong password here").status_code == 200


def test_logout_is_post_only(personas, client_for):
    client = client_for(personas.front_a)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert is_signed_in(client)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    assert not is_signed_in(client)
    assert AuditEntry.objects.filter(action=AuditAction.LOGOUT, actor=personas.front_a).exists()


def test_logout_by_outsider_just_redirects(client):
    assert client.post(reverse("accounts:logout")).status_code == 302


def test_admin_without_device_is_sent_to_setup_for_every_page(personas, client):
    from careline.accounts.models import User
    from careline.core.permissions import Role

    User.objects.create_user(
        "second.admin@example.test", PASSWORD, full_name="Sam Second", roles=[Role.ADMIN]
    )
    response = post_login(client, "second.admin@example.test", PASSWORD)
    assert response["Location"] == reverse("accounts:mfa_setup")
    for name in (
        "patients:list",
        "accounts:staff_list",
        "accounts:profile",
        "locations:list",
        "accounts:api_tokens",
    ):
        response = client.get(reverse(name))
        assert response.status_code == 302, name
        assert response["Location"] == reverse("accounts:mfa_setup"), name
    assert client.get(reverse("accounts:mfa_setup")).status_code == 200


def test_all_staff_must_set_up_when_required_for_all(personas, client, settings):
    settings.CARELINE_MFA_REQUIRED_FOR_ALL_STAFF = True
    post_login(client, "front.a@example.test", PASSWORD)
    response = client.get(reverse("accounts:profile"))
    assert response["Location"] == reverse("accounts:mfa_setup")


def test_staff_without_requirement_are_not_sent_to_setup(personas, client):
    post_login(client, "front.a@example.test", PASSWORD)
    assert client.get(reverse("accounts:profile")).status_code == 200
    assert DEVICE_ID_SESSION_KEY not in client.session
