"""Messaging administration: channels (secrets stay in the environment), saved replies and policies."""

from __future__ import annotations

from datetime import time

import pytest
from django.urls import reverse

from careline.messaging.channels.base import ChannelType, ConfigField, ProviderError
from careline.messaging.models import Channel, MessagingPolicy, SavedReply
from careline.messaging.tests.h3_support import PERSONAS

pytestmark = pytest.mark.django_db

ADMIN_ONLY = {"admin": 200, "front_a": 403, "clinician_a": 403, "billing_a": 403, "front_b": 403}
REPLY_STATUS = {"admin": 200, "front_a": 200, "clinician_a": 403, "billing_a": 403, "front_b": 200}


class SecretiveType(ChannelType):
    code = "secretive"
    name = "Secretive provider"
    capabilities = frozenset({"sms"})
    config_fields = (
        ConfigField("account_id", "Account ID"),
        ConfigField("api_key_env", "API key", secret=True),
    )

    def send(self, channel, message):
        raise ProviderError("this test type never sends", permanent=True)


@pytest.fixture
def secretive(settings):
    settings.CARELINE_CHANNEL_TYPES = [
        *settings.CARELINE_CHANNEL_TYPES,
        f"{SecretiveType.__module__}.{SecretiveType.__qualname__}",
    ]
    return SecretiveType


def _admin_urls(personas):
    return [
        reverse("messaging:channel_list"),
        reverse("messaging:channel_create", args=["simulator"]),
        reverse("messaging:policy_list"),
        reverse("messaging:policy_edit", args=[personas.location_a.pk]),
    ]


@pytest.mark.parametrize("who", PERSONAS)
def test_channel_and_policy_pages_are_for_channel_managers(personas, client_for, who):
    client = client_for(personas.staff[who])
    for url in _admin_urls(personas):
        assert client.get(url).status_code == ADMIN_ONLY[who], url


def test_outsiders_are_sent_to_sign_in(personas, client_for):
    reply = SavedReply.objects.create(title="T", body="Hi", location=personas.location_a)
    urls = [
        *_admin_urls(personas),
        reverse("messaging:saved_reply_list"),
        reverse("messaging:saved_reply_create"),
        reverse("messaging:saved_reply_edit", args=[reply.pk]),
    ]
    for url in urls:
        response = client_for(None).get(url)
        assert response.status_code == 302, url
        assert "/accounts/login" in response["Location"], url
    assert client_for(None).post(reverse("messaging:saved_reply_delete", args=[reply.pk])).status_code == 302
    assert SavedReply.objects.filter(pk=reply.pk).exists()


def test_secret_fields_take_a_variable_name_and_show_whether_it_is_set(
    personas, client_for, secretive, monkeypatch
):
    monkeypatch.setenv("CARELINE_SECRET_SECRETIVE_API_KEY", "s3cr3t-value")
    client = client_for(personas.admin)
    url = reverse("messaging:channel_create", args=["secretive"])
    page = client.get(url).content.decode()
    assert "API key: environment variable" in page
    body = {
        "name": "Main line",
        "address": "(312) 555-0100",
        "is_active": "on",
        "default_for": "sms",
        "keyword_replies": "careline",
        "config_account_id": "AC123",
        "config_api_key_env": "CARELINE_SECRET_SECRETIVE_API_KEY",
    }
    assert client.post(url, body).status_code == 302
    channel = Channel.objects.get(type_code="secretive")
    assert channel.config == {"account_id": "AC123", "api_key_env": "CARELINE_SECRET_SECRETIVE_API_KEY"}
    assert channel.address == "+13125550100"
    assert channel.default_for == "sms"
    edit = client.get(reverse("messaging:channel_edit", args=[channel.pk])).content.decode()
    assert "CARELINE_SECRET_SECRETIVE_API_KEY" in edit
    assert ">set<" in edit
    assert "s3cr3t-value" not in edit


def test_a_pasted_secret_is_refused_and_never_stored(personas, client_for, secretive):
    client = client_for(personas.admin)
    body = {
        "name": "Main line",
        "address": "+13125550100",
        "keyword_replies": "provider",
        "config_account_id": "AC123",
        "config_api_key_env": "sk_live_9f8e7d6c5b4a",
    }
    response = client.post(reverse("messaging:channel_create", args=["secretive"]), body)
    assert response.status_code == 400
    assert "not the secret" in response.content.decode()
    assert not Channel.objects.filter(type_code="secretive").exists()
    assert "sk_live_9f8e7d6c5b4a" not in str(list(Channel.objects.values_list("config", flat=True)))


def test_a_new_default_takes_over_from_the_old_one(personas, client_for):
    old = Channel.objects.create(name="Old", type_code="simulator", address="+13125550100", default_for="sms")
    client = client_for(personas.admin)
    body = {
        "name": "New",
        "address": "+13125550101",
        "default_for": "sms",
        "keyword_replies": "careline",
        "rate_per_second": "2.5",
    }
    assert client.post(reverse("messaging:channel_create", args=["simulator"]), body).status_code == 302
    old.refresh_from_db()
    new = Channel.objects.get(name="New")
    assert old.default_for == ""
    assert new.default_for == "sms"
    assert new.rate_per_second == 2.5


def test_bad_channel_input_gets_a_message_and_changes_nothing(personas, client_for):
    client = client_for(personas.admin)
    body = {
        "name": "X",
        "address": "not a number",
        "default_for": "email",
        "keyword_replies": "careline",
        "rate_per_second": "-1",
    }
    response = client.post(reverse("messaging:channel_create", args=["simulator"]), body)
    assert response.status_code == 400
    page = response.content.decode()
    assert "is not a phone number" in page
    assert "cannot send that kind of message" in page
    assert not Channel.objects.exists()
    assert client.get(reverse("messaging:channel_create", args=["no-such-type"])).status_code == 404


def test_the_environment_channel_is_read_only(personas, client_for):
    channel = Channel.objects.create(
        name="Twilio (from environment)",
        type_code="simulator",
        address="+13125550100",
        source=Channel.Source.ENVIRONMENT,
        config={"auth_token_env": "TWILIO_AUTH_TOKEN"},
    )
    client = client_for(personas.admin)
    url = reverse("messaging:channel_edit", args=[channel.pk])
    page = client.get(url).content.decode()
    assert "configured by environment variables" in page
    assert '<form method="post" class="card' not in page
    assert (
        client.post(
            url, {"name": "Hijacked", "address": "+13125550101", "keyword_replies": "careline"}
        ).status_code
        == 400
    )
    channel.refresh_from_db()
    assert channel.name == "Twilio (from environment)"


@pytest.mark.parametrize("who", PERSONAS)
def test_saved_replies_need_saved_reply_manage(personas, client_for, who):
    client = client_for(personas.staff[who])
    assert client.get(reverse("messaging:saved_reply_list")).status_code == REPLY_STATUS[who]
    assert client.get(reverse("messaging:saved_reply_create")).status_code == REPLY_STATUS[who]


EDIT_A_REPLY = {"admin": 200, "front_a": 200, "clinician_a": 403, "billing_a": 403, "front_b": 403}


@pytest.mark.parametrize("who", PERSONAS)
def test_a_locations_saved_reply_is_edited_only_by_staff_there(personas, client_for, who):
    reply = SavedReply.objects.create(
        title="Directions", body="We are at {location_address}", location=personas.location_a
    )
    client = client_for(personas.staff[who])
    assert client.get(reverse("messaging:saved_reply_edit", args=[reply.pk])).status_code == EDIT_A_REPLY[who]
    response = client.post(reverse("messaging:saved_reply_delete", args=[reply.pk]))
    assert SavedReply.objects.filter(pk=reply.pk).exists() == (EDIT_A_REPLY[who] != 200)
    assert response.status_code == (302 if EDIT_A_REPLY[who] == 200 else 403)


def test_saved_reply_crud_validates_the_template(personas, client_for):
    client = client_for(personas.front_a)
    url = reverse("messaging:saved_reply_create")
    bad = client.post(
        url, {"title": "Lab", "body": "Your {lab_result} is ready", "location": personas.location_a.pk}
    )
    assert bad.status_code == 400
    assert "Unknown field {lab_result}" in bad.content.decode()
    keyword = client.post(
        url, {"title": "Lab", "body": "Text CANCEL to cancel your visit", "location": personas.location_a.pk}
    )
    assert keyword.status_code == 400
    assert "Patients may only be asked to reply CANCEL" in keyword.content.decode()
    assert not SavedReply.objects.exists()
    good = client.post(
        url,
        {
            "title": "Call us",
            "body": "Hi {first_name}, call {location_phone}",
            "location": personas.location_a.pk,
            "is_active": "on",
        },
    )
    assert good.status_code == 302
    reply = SavedReply.objects.get()
    assert reply.created_by == personas.front_a
    assert reply.location == personas.location_a
    # Front desk may not make a reply for every location (it would reach other sites' staff).
    blank = client.post(url, {"title": "All", "body": "Hi", "location": ""})
    assert blank.status_code == 400
    assert SavedReply.objects.count() == 1
    edit = client.post(
        reverse("messaging:saved_reply_edit", args=[reply.pk]),
        {"title": "Call us now", "body": "Call {location_phone}", "location": personas.location_a.pk},
    )
    assert edit.status_code == 302
    reply.refresh_from_db()
    assert reply.title == "Call us now"
    assert not reply.is_active


def test_policy_edit_validates_window_and_reply(personas, client_for):
    client = client_for(personas.admin)
    url = reverse("messaging:policy_edit", args=[personas.location_a.pk])
    bad = client.post(
        url,
        {
            "window_start": "20:00",
            "window_end": "08:00",
            "after_hours_reply_enabled": "on",
            "after_hours_text": "We are closed. {secret}",
        },
    )
    page = bad.content.decode()
    assert bad.status_code == 400
    assert "must close after it opens" in page
    assert "Unknown field {secret}" in page
    assert not MessagingPolicy.objects.exists()
    good = client.post(
        url,
        {
            "window_start": "09:00",
            "window_end": "19:30",
            "after_hours_text": "{location_name} is closed. If this is an emergency, call 911.",
        },
    )
    assert good.status_code == 302
    policy = MessagingPolicy.objects.get(location=personas.location_a)
    assert (policy.window_start, policy.window_end, policy.after_hours_reply_enabled) == (
        time(9),
        time(19, 30),
        False,
    )
    assert "Northside Clinic" in client.get(reverse("messaging:policy_list")).content.decode()
