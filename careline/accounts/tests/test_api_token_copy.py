"""A new API token: shown whole exactly once (the page the creation redirects to), with a Copy button and a plain warning."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from careline.accounts.models import ApiToken

pytestmark = pytest.mark.django_db

JS = Path(settings.BASE_DIR) / "careline" / "static" / "careline" / "careline.js"


def _post(client, personas):
    return client.post(reverse("accounts:api_tokens"), {"user": personas.front_a.pk, "name": "EHR sync"})


def _create(client, personas):
    """Create a token and follow the redirect to the page that shows it."""
    return client.post(
        reverse("accounts:api_tokens"), {"user": personas.front_a.pk, "name": "EHR sync"}, follow=True
    )


def test_the_creation_response_shows_the_token_once_with_a_copy_button(personas, client_for):
    response = _create(client_for(personas.admin), personas)
    html = response.content.decode()
    secret = response.context["new_secret"]
    assert html.count(secret) == 1, "the whole token appears once, in its read-only field"
    assert re.search(rf'<input id="new-token"[^>]*value="{re.escape(secret)}"', html)
    assert re.search(r'<button type="button"[^>]*data-copy-target="new-token"[^>]*>Copy</button>', html)
    assert "Copy it now: it will not be shown again." in html
    assert 'role="status"' in html  # where "Copied" is announced


def test_the_token_is_never_shown_again(personas, client_for):
    client = client_for(personas.admin)
    secret = _create(client, personas).context["new_secret"]
    token = ApiToken.objects.get()
    for page in (client.get(reverse("accounts:api_tokens")), _create(client, personas)):
        assert secret not in page.content.decode()
    listing = client.get(reverse("accounts:api_tokens")).content.decode()
    assert f"<code>{token.prefix}…</code>" in listing
    assert "data-copy-target" not in listing and "will not be shown again" not in listing


def test_the_copy_behaviour_lives_in_the_static_script():
    script = JS.read_text(encoding="utf-8")
    assert "data-copy-target" in script
    assert "navigator.clipboard" in script
    assert ".select()" in script  # the fallback: the text is selected for Ctrl+C


def test_creating_redirects_so_a_reload_creates_no_second_token(personas, client_for):
    client = client_for(personas.admin)
    response = _post(client, personas)
    assert response.status_code == 303 and response["Location"] == reverse("accounts:api_tokens")
    shown = client.get(response["Location"])
    secret = shown.context["new_secret"]
    assert secret.startswith(ApiToken.TOKEN_PREFIX) and shown.content.decode().count(secret) == 1
    assert shown.context["new_token"] == ApiToken.objects.get()
    assert "no-store" in shown["Cache-Control"]
    # Reloading the page after the redirect is a GET: no second token, and the secret is gone.
    again = client.get(reverse("accounts:api_tokens"))
    assert ApiToken.objects.count() == 1
    assert secret not in again.content.decode() and "will not be shown again" not in again.content.decode()
    assert "accounts_new_api_token" not in client.session


def test_the_secret_is_shown_only_to_the_session_that_created_it(personas, client_for):
    _post(client_for(personas.admin), personas)
    other = client_for(personas.admin).get(reverse("accounts:api_tokens"))
    assert "will not be shown again" not in other.content.decode()
