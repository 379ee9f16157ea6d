import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from careline.accounts.models import ApiToken, hash_token
from careline.accounts.services import api_token_create, api_token_revoke
from careline.accounts.tests.helpers import PERSONA_NAMES
from careline.core.actor import Actor
from careline.core.models import AuditAction, AuditChannel, AuditEntry

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", PERSONA_NAMES)
def test_token_page_is_for_administrators_only(personas, client_for, name):
    response = client_for(personas.staff[name]).get(reverse("accounts:api_tokens"))
    assert response.status_code == (200 if name == "admin" else 403)


@pytest.mark.parametrize("name", PERSONA_NAMES)
def test_revoke_is_for_administrators_only(personas, client_for, name):
    token, _ = api_token_create(user=personas.front_a, name="EHR sync", actor=Actor.staff(personas.admin))
    response = client_for(personas.staff[name]).post(reverse("accounts:api_token_revoke", args=[token.pk]))
    assert response.status_code == (302 if name == "admin" else 403)
    token.refresh_from_db()
    assert (token.revoked_at is not None) == (name == "admin")


def test_token_pages_send_outsiders_to_sign_in(personas, client):
    token, _ = api_token_create(user=personas.front_a, name="EHR sync", actor=Actor.staff(personas.admin))
    for response in (
        client.get(reverse("accounts:api_tokens")),
        client.post(reverse("accounts:api_token_revoke", args=[token.pk])),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


def test_created_token_is_shown_once_and_only_its_hash_is_stored(personas, client_for):
    client = client_for(personas.admin)
    response = client.post(
        reverse("accounts:api_tokens"), {"user": personas.front_a.pk, "name": "EHR sync"}, follow=True
    )
    assert response.status_code == 200 and response.redirect_chain[0][1] == 303
    token = ApiToken.objects.get()
    secret = response.context["new_secret"]
    assert secret.startswith(ApiToken.TOKEN_PREFIX)
    assert secret.encode() in response.content
    assert token.token_hash == hash_token(secret)
    assert secret not in {token.name, token.prefix, token.token_hash}
    assert token.user == personas.front_a
    assert token.created_by == personas.admin
    assert AuditEntry.objects.filter(action=AuditAction.ADMIN, object_id=str(token.pk)).exists()
    listing = client.get(reverse("accounts:api_tokens"))
    assert secret.encode() not in listing.content
    assert token.prefix.encode() in listing.content


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "x"}, b"This field is required."),
        ({"user": "999999", "name": "x"}, b"Select a valid choice."),
    ],
)
def test_bad_token_input_is_refused(personas, client_for, data, message):
    response = client_for(personas.admin).post(reverse("accounts:api_tokens"), data)
    assert response.status_code == 400
    assert message in response.content
    assert not ApiToken.objects.exists()


def test_no_token_for_a_deactivated_person(personas, client_for):
    personas.front_a.is_active = False
    personas.front_a.save()
    response = client_for(personas.admin).post(
        reverse("accounts:api_tokens"), {"user": personas.front_a.pk, "name": "x"}
    )
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_revoked_token_is_no_longer_active_and_revoke_is_idempotent(personas):
    token, secret = api_token_create(
        user=personas.front_a, name="EHR sync", actor=Actor.staff(personas.admin)
    )
    assert ApiToken.objects.active().filter(token_hash=hash_token(secret)).exists()
    api_token_revoke(token=token, actor=Actor.staff(personas.admin))
    first = ApiToken.objects.get(pk=token.pk).revoked_at
    api_token_revoke(token=token, actor=Actor.staff(personas.admin))
    assert ApiToken.objects.get(pk=token.pk).revoked_at == first
    assert not ApiToken.objects.active().filter(token_hash=hash_token(secret)).exists()
    assert (
        AuditEntry.objects.filter(action=AuditAction.ADMIN, detail__startswith="API token revoked").count()
        == 1
    )


def test_revoke_of_unknown_token_is_404(personas, client_for):
    assert (
        client_for(personas.admin).post(reverse("accounts:api_token_revoke", args=[999999])).status_code
        == 404
    )


def test_revoke_is_post_only(personas, client_for):
    token, _ = api_token_create(user=personas.front_a, name="EHR sync", actor=Actor.staff(personas.admin))
    assert (
        client_for(personas.admin).get(reverse("accounts:api_token_revoke", args=[token.pk])).status_code
        == 405
    )


def test_command_prints_only_the_new_token(personas, capsys):
    call_command("create_api_token", "Front.A@example.test", "--name", "Nightly export")
    output = capsys.readouterr().out.strip()
    token = ApiToken.objects.get()
    assert token.token_hash == hash_token(output)
    assert output.startswith(ApiToken.TOKEN_PREFIX)
    assert "\n" not in output
    assert token.name == "Nightly export"
    assert token.user == personas.front_a
    assert AuditEntry.objects.filter(object_id=str(token.pk), channel=AuditChannel.COMMAND).exists()


def test_command_refuses_unknown_email(personas):
    with pytest.raises(CommandError, match="No staff account has the email address"):
        call_command("create_api_token", "nobody@example.test")
    assert not ApiToken.objects.exists()


def test_command_refuses_deactivated_staff(personas):
    personas.front_a.is_active = False
    personas.front_a.save()
    with pytest.raises(CommandError, match="deactivated"):
        call_command("create_api_token", "front.a@example.test")
    assert not ApiToken.objects.exists()
