"""Pytest fixtures and helpers for the Twilio channel: a running double, a channel pointed at it, signed webhooks.

Use from a conftest.py:  `from careline.messaging.testing.fixtures import twilio_channel, twilio_double  # noqa: F401`

    twilio_double                                     a started TwilioDouble (stopped after the test)
    twilio_channel                                    a Channel(type "twilio") sending to that double
    signed_post(client, path, params, token, query=)  a webhook POST through a Django test client
    signed_post_http(base_url, path, params, token)   the same over real HTTP (benchmarks, live servers)
    inbound_params(channel, from_number, body, ...)   the form Twilio posts to /webhooks/twilio/messages
    status_params(channel, sid, status, ...)          the form Twilio posts to /webhooks/twilio/status
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest
import requests
from django.conf import settings
from django.test import Client
from twilio.request_validator import RequestValidator

from careline.messaging.models import Channel, KeywordReplies
from careline.messaging.testing.twilio_double import TwilioDouble

TOKEN_VARIABLE = "CARELINE_TEST_TWILIO_AUTH_TOKEN"  # noqa: S105 - a variable name, not a secret
CHANNEL_NUMBER = "+15555550199"


def twilio_signature(url: str, params: Mapping[str, Any], token: str) -> str:
    """X-Twilio-Signature for a POST of PARAMS to URL, computed with Twilio's own algorithm."""
    return str(RequestValidator(token).compute_signature(url, dict(params)))


def signed_post(
    client: Client,
    path: str,
    params: Mapping[str, str],
    token: str,
    *,
    query: str = "",
    signature: str | None = None,
) -> Any:
    """POST PARAMS to PATH(?QUERY) like Twilio does, signed against PUBLIC_BASE_URL (or with SIGNATURE)."""
    full = f"{path}?{query}" if query else path
    if signature is None:
        signature = twilio_signature(f"{settings.PUBLIC_BASE_URL}{full}", params, token)
    headers = {"X-Twilio-Signature": signature} if signature else {}
    return client.post(full, data=dict(params), headers=headers)


def signed_post_http(
    base_url: str,
    path: str,
    params: Mapping[str, str],
    token: str,
    *,
    query: str = "",
    public_base_url: str | None = None,
    session: requests.Session | None = None,
    timeout: float = 10,
) -> requests.Response:
    """POST a signed webhook to a running server at BASE_URL (signed for PUBLIC_BASE_URL, default BASE_URL)."""
    full = f"{path}?{query}" if query else path
    signature = twilio_signature(f"{(public_base_url or base_url).rstrip('/')}{full}", params, token)
    poster = session or requests
    return poster.post(
        f"{base_url.rstrip('/')}{full}",
        data=dict(params),
        headers={"X-Twilio-Signature": signature},
        timeout=timeout,
    )


def inbound_params(
    channel: Channel,
    from_number: str,
    body: str,
    *,
    sid: str | None = None,
    media: Sequence[tuple[str, str]] = (),
    opt_out_type: str = "",
) -> dict[str, str]:
    """The form Twilio posts for an inbound text; MEDIA is [(url, content_type)]."""
    params = {
        "MessageSid": sid or "SM" + secrets.token_hex(16),
        "AccountSid": channel.config["account_sid"],
        "From": from_number,
        "To": channel.config.get("from_number") or channel.address,
        "Body": body,
        "NumMedia": str(len(media)),
        "NumSegments": "1",
        "ApiVersion": "2010-04-01",
        "SmsStatus": "received",
    }
    params["SmsMessageSid"] = params["SmsSid"] = params["MessageSid"]
    for index, (url, content_type) in enumerate(media):
        params[f"MediaUrl{index}"] = url
        params[f"MediaContentType{index}"] = content_type
    if opt_out_type:
        params["OptOutType"] = opt_out_type
    return params


def status_params(
    channel: Channel, sid: str, status: str, *, to: str = "+15555550100", error_code: str = ""
) -> dict[str, str]:
    """The form Twilio posts to a status callback."""
    params = {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": channel.config["account_sid"],
        "From": channel.config.get("from_number") or channel.address,
        "To": to,
        "MessageStatus": status,
        "SmsStatus": status,
        "ApiVersion": "2010-04-01",
    }
    if error_code:
        params["ErrorCode"] = error_code
    return params


@pytest.fixture
def twilio_double() -> Iterator[TwilioDouble]:
    """A running loopback Twilio double, stopped (and its held answers released) after the test."""
    double = TwilioDouble().start()
    try:
        yield double
    finally:
        double.stop()


def make_twilio_channel(
    double: TwilioDouble,
    *,
    number: str = CHANNEL_NUMBER,
    keyword_replies: str = KeywordReplies.PROVIDER,
    timeout_seconds: float | None = None,
    default: bool = True,
    **config: Any,
) -> Channel:
    """A Twilio channel sending to DOUBLE; its token is read from TOKEN_VARIABLE (set it in the environment)."""
    values: dict[str, Any] = {
        "account_sid": double.account_sid,
        "auth_token_env": TOKEN_VARIABLE,
        "from_number": number,
        "messaging_service_sid": "",
        "api_base_url": double.url,
    }
    if timeout_seconds is not None:
        values["timeout_seconds"] = timeout_seconds
    values.update(config)
    if default:
        Channel.objects.filter(default_for="sms").update(default_for="")
    return Channel.objects.create(
        name="Twilio (test)",
        type_code="twilio",
        address=number,
        config=values,
        keyword_replies=keyword_replies,
        default_for="sms" if default else "",
    )


@pytest.fixture
def twilio_channel(db: None, twilio_double: TwilioDouble, monkeypatch: pytest.MonkeyPatch) -> Channel:
    """The default SMS channel: Twilio, pointed at the double, with a 2-second client timeout."""
    monkeypatch.setenv(TOKEN_VARIABLE, twilio_double.auth_token)
    return make_twilio_channel(twilio_double, timeout_seconds=2)
