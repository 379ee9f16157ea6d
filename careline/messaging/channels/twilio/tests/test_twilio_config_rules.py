"""A UI-configured channel cannot send Careline's own secrets, or any secret, to a URL an administrator picks."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from careline.core.models import AuditEntry
from careline.messaging.channels.base import SECRET_VARIABLE_PATTERN
from careline.messaging.channels.twilio.type import TwilioType
from careline.messaging.models import Channel, Message, MessageState
from careline.messaging.outbound.compose import message_send
from careline.messaging.outbound.dispatch import message_dispatch
from careline.messaging.testing.fixtures import (
    TOKEN_VARIABLE,
    inbound_params,
    make_twilio_channel,
    signed_post,
)

NOON_CHICAGO = datetime(2026, 3, 4, 18, 0, tzinfo=UTC)
PAT = "+13125550111"
CREATE = reverse("messaging:channel_create", args=["twilio"])


pytestmark = [pytest.mark.clock(NOON_CHICAGO), pytest.mark.usefixtures("clock")]


def _form(**config):
    body = {
        "name": "Lakeside",
        "address": "+13125550100",
        "keyword_replies": "careline",
        "config_account_id": "",
        "config_account_sid": "AC" + "1" * 32,
        "config_auth_token_env": "LAKESIDE_TWILIO_AUTH_TOKEN",
        "config_from_number": "+13125550100",
    }
    body.update({f"config_{key}": value for key, value in config.items()})
    return body


@pytest.mark.parametrize(
    "variable", ["SECRET_KEY", "DATABASE_URL", "EMAIL_HOST_PASSWORD", "TWILIO_AUTH_TOKEN", "AWS_SECRET"]
)
def test_a_token_variable_outside_the_pattern_is_refused_at_save(personas, client_for, variable):
    response = client_for(personas.admin).post(CREATE, _form(auth_token_env=variable))
    assert response.status_code == 400
    page = response.content.decode()
    assert "CARELINE_SECRET_&lt;NAME&gt;" in page
    assert not Channel.objects.filter(type_code="twilio").exists()


@pytest.mark.parametrize("variable", ["CARELINE_SECRET_LAKESIDE", "LAKESIDE_TWILIO_AUTH_TOKEN"])
def test_a_token_variable_in_the_pattern_is_saved(personas, client_for, variable):
    response = client_for(personas.admin).post(CREATE, _form(auth_token_env=variable))
    assert response.status_code == 302
    assert Channel.objects.get(type_code="twilio").config["auth_token_env"] == variable


@pytest.mark.parametrize(
    ("url", "env", "allowed"),
    [
        ("https://collector.example.net", "development", False),
        ("https://sms.partner.example", "development", True),
        ("https://eu.sms.partner.example", "development", False),
        ("https://eu.sub.example", "development", True),
        ("http://sms.partner.example", "development", False),
        ("https://api.twilio.com", "production", True),
        ("https://10.0.0.5", "development", False),
        ("https://169.254.169.254", "development", False),
        ("https://user:pw@sms.partner.example", "development", False),
        ("http://127.0.0.1:8765", "development", True),
        ("http://localhost:8765", "development", True),
        ("http://127.0.0.1:8765", "production", False),
        ("https://[::1]:8765", "production", False),
        ("javascript:alert(1)", "development", False),
        ("https://sms.partner.example:notaport", "development", False),
    ],
)
def test_api_base_urls_must_be_allow_listed_https_hosts(personas, client_for, settings, url, env, allowed):
    settings.CARELINE_CHANNEL_API_HOSTS = ["sms.partner.example", "*.sub.example"]
    settings.CARELINE_ENV = env
    response = client_for(personas.admin).post(CREATE, _form(api_base_url=url))
    assert response.status_code == (302 if allowed else 400)
    assert Channel.objects.filter(type_code="twilio").exists() == allowed


def test_every_change_of_a_channels_configuration_is_audited(personas, client_for, settings):
    settings.CARELINE_CHANNEL_API_HOSTS = ["sms.partner.example"]
    client = client_for(personas.admin)
    assert client.post(CREATE, _form()).status_code == 302
    channel = Channel.objects.get(type_code="twilio")
    edit = reverse("messaging:channel_edit", args=[channel.pk])
    changed = _form(api_base_url="https://sms.partner.example", auth_token_env="CARELINE_SECRET_LAKESIDE")
    assert client.post(edit, changed).status_code == 302
    entries = list(
        AuditEntry.objects.filter(object_type="messaging.channel", object_id=str(channel.pk)).order_by("pk")
    )
    assert [entry.action for entry in entries] == ["create", "update"]
    assert entries[1].actor == personas.admin
    detail = entries[1].detail
    assert "config.api_base_url: '' -> 'https://sms.partner.example'" in detail
    assert "config.auth_token_env: 'LAKESIDE_TWILIO_AUTH_TOKEN' -> 'CARELINE_SECRET_LAKESIDE'" in detail
    assert "name" not in detail.replace("channel twilio", "")  # unchanged fields are not listed


@pytest.mark.parametrize("variable", ["SECRET_KEY", "DATABASE_URL", "EMAIL_HOST_PASSWORD"])
def test_a_stored_channel_naming_a_careline_setting_fails_permanently_and_sends_nothing(
    personas, twilio_double, monkeypatch, variable
):
    # A row saved before the rule existed: the double would accept the request if the secret were sent.
    monkeypatch.setenv(variable, twilio_double.auth_token)
    channel = make_twilio_channel(twilio_double, auth_token_env=variable)
    message = message_send(body="Hello", patient=personas.pat, channel=channel)
    assert message_dispatch(message.pk) == MessageState.FAILED
    message.refresh_from_db()
    assert "CARELINE_SECRET_<NAME>" in message.error_message
    assert message.error_code == "config"
    assert twilio_double.request_count == 0


def test_a_stored_channel_pointed_at_a_host_off_the_allow_list_sends_nothing(
    personas, twilio_double, monkeypatch, settings
):
    monkeypatch.setenv(TOKEN_VARIABLE, twilio_double.auth_token)
    channel = make_twilio_channel(twilio_double)  # loopback: allowed only in development
    settings.CARELINE_ENV = "production"
    message = message_send(body="Hello", patient=personas.pat, channel=channel)
    assert message_dispatch(message.pk) == MessageState.FAILED
    message.refresh_from_db()
    assert "loopback" in message.error_message
    assert twilio_double.request_count == 0


def test_a_stored_channel_with_a_refused_variable_takes_no_webhooks(personas, twilio_double, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", twilio_double.auth_token)
    channel = make_twilio_channel(twilio_double, auth_token_env="SECRET_KEY")
    params = inbound_params(channel, PAT, "Hello")
    response = signed_post(Client(), "/webhooks/twilio/messages", params, twilio_double.auth_token)
    assert response.status_code == 403
    assert not Message.objects.exists()


def test_no_configuration_variable_of_careline_matches_a_secret_pattern():
    readme = (Path(django_settings.BASE_DIR) / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    names = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", section))
    assert len(names) > 30
    patterns = [SECRET_VARIABLE_PATTERN, *(pattern for pattern, _ in TwilioType.secret_variable_patterns)]
    clashes = sorted(name for name in names if any(pattern.fullmatch(name) for pattern in patterns))
    assert not clashes


def test_the_form_does_not_tell_whether_a_refused_variable_is_set(personas, client_for, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 60)
    response = client_for(personas.admin).post(CREATE, _form(auth_token_env="SECRET_KEY"))
    assert response.status_code == 400
    assert '<span class="badge ok">set</span>' not in response.content.decode()
