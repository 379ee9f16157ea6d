import pytest
from django.urls import reverse

from careline.accounts.tests.helpers import PERSONA_NAMES, is_signed_in, post_login
from careline.core.models import AuditAction, AuditEntry
from careline.testing.personas import PASSWORD

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a much longer new passphrase 913"


@pytest.mark.parametrize("name", PERSONA_NAMES)
def test_every_persona_sees_their_own_profile(personas, client_for, name):
    user = personas.staff[name]
    response = client_for(user).get(reverse("accounts:profile"))
    assert response.status_code == 200
    assert user.email.encode() in response.content


def test_outsider_is_sent_to_sign_in(client):
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("name", PERSONA_NAMES)
def test_mfa_setup_page_access(personas, client_for, name):
    assert client_for(personas.staff[name]).get(reverse("accounts:mfa_setup")).status_code == 200


def test_password_change_keeps_the_session_and_new_password_works(personas, client_for, client):
    own = client_for(personas.front_a)
    response = own.post(
        reverse("accounts:profile"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert own.get(reverse("accounts:profile")).status_code == 200
    assert AuditEntry.objects.filter(action=AuditAction.UPDATE, detail="own password changed").exists()
    post_login(client, "front.a@example.test", NEW_PASSWORD)
    assert is_signed_in(client)


def test_password_change_ends_other_sessions(personas, client_for):
    own = client_for(personas.front_a)
    other_device = client_for(personas.front_a)
    own.post(
        reverse("accounts:profile"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert other_device.get(reverse("accounts:profile")).status_code == 302


@pytest.mark.parametrize(
    ("old", "new1", "new2", "message"),
    [
        ("wrong old password", NEW_PASSWORD, NEW_PASSWORD, b"Your old password was entered incorrectly"),
        (PASSWORD, "short1", "short1", b"too short"),
        (PASSWORD, "password1234", "password1234", b"too common"),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", b"didn"),
    ],
)
def test_bad_password_change_is_refused_and_changes_nothing(personas, client_for, old, new1, new2, message):
    client = client_for(personas.front_a)
    response = client.post(
        reverse("accounts:profile"), {"old_password": old, "new_password1": new1, "new_password2": new2}
    )
    assert response.status_code == 200
    assert message in response.content
    personas.front_a.refresh_from_db()
    assert personas.front_a.check_password(PASSWORD)
