from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from careline.accounts.tests.helpers import current_code, is_signed_in, post_login
from careline.core.models import AuditAction, AuditEntry
from careline.testing.personas import PASSWORD

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
ADMIN_EMAIL = "admin@example.test"


@pytest.fixture
def admin_device(personas):
    return TOTPDevice.objects.get(user=personas.admin, confirmed=True)


def test_password_alone_does_not_sign_in_a_person_with_a_device(personas, client):
    response = post_login(client, ADMIN_EMAIL, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:mfa_verify")
    assert not is_signed_in(client)
    assert not AuditEntry.objects.filter(action=AuditAction.LOGIN).exists()
    # Nothing behind sign-in is reachable while the code is owed.
    staff_page = client.get(reverse("accounts:staff_list"))
    assert staff_page.status_code == 302
    assert staff_page["Location"].startswith(reverse("accounts:login"))


def test_wrong_code_is_refused_and_right_code_signs_in(personas, client, admin_device):
    with time_machine.travel(START, tick=False) as traveller:
        before = client.session.session_key
        post_login(client, ADMIN_EMAIL, PASSWORD, next_url="/accounts/staff")
        wrong = str((int(current_code(admin_device)) + 1) % 1_000_000).zfill(6)
        response = client.post(reverse("accounts:mfa_verify"), {"token": wrong})
        assert response.status_code == 200
        assert b"That code is not right" in response.content
        assert not is_signed_in(client)
        failed = AuditEntry.objects.get(action=AuditAction.LOGIN_FAILED)
        assert failed.actor_label == ADMIN_EMAIL
        assert failed.detail == "wrong two-factor code"

        traveller.shift(timedelta(seconds=2))  # django-otp's throttle: 1 s after the first wrong code
        response = client.post(reverse("accounts:mfa_verify"), {"token": current_code(admin_device)})
        assert response.status_code == 302
        assert response["Location"] == "/accounts/staff"
        assert client.session["_auth_user_id"] == str(personas.admin.pk)
        assert client.session[DEVICE_ID_SESSION_KEY] == admin_device.persistent_id
        assert client.session.session_key != before
        assert client.get(reverse("accounts:staff_list")).status_code == 200
        assert AuditEntry.objects.filter(action=AuditAction.LOGIN, actor=personas.admin).count() == 1


def test_codes_are_throttled_after_a_wrong_one(personas, client, admin_device):
    with time_machine.travel(START, tick=False):
        post_login(client, ADMIN_EMAIL, PASSWORD)
        client.post(reverse("accounts:mfa_verify"), {"token": "000000"})
        response = client.post(reverse("accounts:mfa_verify"), {"token": current_code(admin_device)})
        assert b"Too many wrong codes" in response.content
        assert not is_signed_in(client)


def test_wrong_codes_count_toward_the_account_lockout(personas, client, admin_device, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # isolate the account lockout from django-otp's own throttle
    with time_machine.travel(START, tick=False):
        post_login(client, ADMIN_EMAIL, PASSWORD)
        responses = [
            client.post(reverse("accounts:mfa_verify"), {"token": "000000"})
            for _ in range(settings.AXES_FAILURE_LIMIT)
        ]
        assert [r.status_code for r in responses[:-1]] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
        assert responses[-1].status_code == 429
        assert b"Sign-in paused" in responses[-1].content
        # The half-finished sign-in is gone, and the right password no longer helps.
        assert client.get(reverse("accounts:mfa_verify"))["Location"] == reverse("accounts:login")
        assert post_login(client, ADMIN_EMAIL, PASSWORD).status_code == 429
        assert not is_signed_in(client)


def test_pending_sign_in_expires(personas, client, admin_device):
    with time_machine.travel(START, tick=False) as traveller:
        post_login(client, ADMIN_EMAIL, PASSWORD)
        traveller.shift(timedelta(minutes=6))
        response = client.post(reverse("accounts:mfa_verify"), {"token": current_code(admin_device)})
        assert response.status_code == 302
        assert response["Location"] == reverse("accounts:login")
        assert not is_signed_in(client)


def test_code_page_without_a_pending_sign_in_goes_to_login(client):
    response = client.get(reverse("accounts:mfa_verify"))
    assert response["Location"] == reverse("accounts:login")


@pytest.mark.parametrize("token", ["", "12345", "abcdef", "1234567", "12 34 5x"])
def test_malformed_codes_get_a_clear_message(personas, client, admin_device, token):
    post_login(client, ADMIN_EMAIL, PASSWORD)
    response = client.post(reverse("accounts:mfa_verify"), {"token": token})
    assert response.status_code == 200
    assert not is_signed_in(client)
    assert b'class="error"' in response.content


def test_a_used_code_cannot_be_replayed(personas, client, admin_device):
    with time_machine.travel(START, tick=False):
        post_login(client, ADMIN_EMAIL, PASSWORD)
        code = current_code(admin_device)
        client.post(reverse("accounts:mfa_verify"), {"token": code})
        assert is_signed_in(client)
        other = type(client)()
        post_login(other, ADMIN_EMAIL, PASSWORD)
        other.post(reverse("accounts:mfa_verify"), {"token": code})
        assert not is_signed_in(other)


def test_setup_shows_qr_and_key_and_confirms_with_a_code(personas, client):
    from careline.accounts.models import User
    from careline.core.permissions import Role

    User.objects.create_user(
        "second.admin@example.test", PASSWORD, full_name="Sam Second", roles=[Role.ADMIN]
    )
    with time_machine.travel(START, tick=False) as traveller:
        post_login(client, "second.admin@example.test", PASSWORD)
        page = client.get(reverse("accounts:mfa_setup"))
        assert page.status_code == 200
        assert b"<svg" in page.content
        device = TOTPDevice.objects.get(user__email="second.admin@example.test")
        assert device.confirmed is False
        # Reloading keeps the same secret, so a code scanned a moment ago still works.
        client.get(reverse("accounts:mfa_setup"))
        assert TOTPDevice.objects.filter(user__email="second.admin@example.test").count() == 1

        refused = client.post(reverse("accounts:mfa_setup"), {"token": "000000"})
        assert b"That code is not right" in refused.content
        device.refresh_from_db()
        assert device.confirmed is False

        traveller.shift(timedelta(seconds=2))
        response = client.post(reverse("accounts:mfa_setup"), {"token": current_code(device)})
        assert response["Location"] == reverse("accounts:profile")
        device.refresh_from_db()
        assert device.confirmed is True
        assert client.get(reverse("accounts:staff_list")).status_code == 200
        assert AuditEntry.objects.filter(action=AuditAction.MFA, detail="authenticator set up").exists()


def test_setup_secret_is_shown_for_manual_entry(personas, client_for):
    from base64 import b32encode

    client = client_for(personas.front_a)
    page = client.get(reverse("accounts:mfa_setup"))
    device = TOTPDevice.objects.get(user=personas.front_a)
    secret = b32encode(device.bin_key).decode().rstrip("=")
    assert secret[:4].encode() in page.content
    assert secret[-4:].encode() in page.content


def test_replacing_keeps_the_old_device_until_the_new_one_is_confirmed(personas, client_for, admin_device):
    client = client_for(personas.admin)
    with time_machine.travel(START, tick=False):
        client.get(reverse("accounts:mfa_setup"))
        new_device = TOTPDevice.objects.get(user=personas.admin, confirmed=False)
        assert TOTPDevice.objects.filter(pk=admin_device.pk).exists()
        client.post(reverse("accounts:mfa_setup"), {"token": current_code(new_device)})
    assert list(TOTPDevice.objects.filter(user=personas.admin).values_list("pk", flat=True)) == [
        new_device.pk
    ]
    assert AuditEntry.objects.filter(action=AuditAction.MFA, detail="authenticator replaced").exists()


def test_password_alone_cannot_replace_an_authenticator(personas, client, admin_device):
    # Signed in by password only (e.g. the code step skipped): setup must ask for the current code first.
    client.force_login(personas.admin)
    response = client.get(reverse("accounts:mfa_setup"))
    assert response["Location"] == reverse("accounts:mfa_verify")
    assert not TOTPDevice.objects.filter(user=personas.admin, confirmed=False).exists()


def test_mfa_pages_for_outsider_redirect_to_login(client):
    response = client.get(reverse("accounts:mfa_setup"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
