"""Media patients send: only https addresses are kept, files are copied into Careline's storage by the
inbound task (with the channel's credentials, from the provider only) and shown to staff through an
authorized, audited view; nothing hot-links the provider, and no address becomes a script link."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client, RequestFactory, TestCase
from django.urls import reverse

from careline.core.models import AuditEntry
from careline.messaging.channels.twilio.type import TwilioType
from careline.messaging.models import Conversation, Message
from careline.messaging.services.attachments import MAX_ATTACHMENT_BYTES
from careline.messaging.testing.fixtures import inbound_params, signed_post

NOON_CHICAGO = datetime(2026, 3, 4, 18, 0, tzinfo=UTC)
PAT = "+13125550111"
INBOUND = "/webhooks/twilio/messages"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"0" * 64


pytestmark = [pytest.mark.clock(NOON_CHICAGO), pytest.mark.usefixtures("clock")]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _mms(channel, token, media, body=""):
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = signed_post(Client(), INBOUND, inbound_params(channel, PAT, body, media=media), token)
    assert response.status_code == 200
    return Message.objects.get(direction=Message.Direction.INBOUND)


def _page(client, message):
    url = reverse("messaging:conversation", args=[message.conversation_id])
    return client.get(url).content.decode()


def test_media_are_copied_from_the_provider_and_served_to_staff_only(
    personas, client_for, twilio_channel, twilio_double, media_root
):
    image_url = twilio_double.add_media(PNG, "image/png")
    pdf_url = twilio_double.add_media(PDF, "application/pdf")
    message = _mms(
        twilio_channel, twilio_double.auth_token, [(image_url, "image/png"), (pdf_url, "image/png")]
    )
    image, pdf = message.media
    assert (media_root / "messaging" / image["file"]).read_bytes() == PNG
    assert pdf["content_type"] == "application/pdf"  # the bytes decide, not the provider's claim
    fetches = [r for r in twilio_double.requests if "/Media/" in r.path]
    assert len(fetches) == 2 and all(r.authorized for r in fetches)

    client = client_for(personas.front_a)
    page = _page(client, message)
    staff_image = reverse("messaging:media", args=[message.conversation_id, image["file"].split("/")[1]])
    staff_pdf = reverse("messaging:media", args=[message.conversation_id, pdf["file"].split("/")[1]])
    assert f'<img src="{staff_image}"' in page
    assert staff_pdf in page
    assert "api.twilio.com" not in page  # no hot-linking

    fetched = client.get(staff_image)
    assert fetched.status_code == 200
    assert fetched.content == PNG
    downloaded = client.get(staff_pdf)
    assert downloaded["Content-Type"] == "application/pdf"
    assert downloaded["Content-Disposition"] == "attachment"
    reads = AuditEntry.objects.filter(actor=personas.front_a, detail="file in the conversation")
    assert reads.count() == 2
    assert reads.first().patient_id == personas.pat.pk
    assert client_for(personas.front_b).get(staff_image).status_code == 403
    assert client_for(None).get(staff_image).status_code == 302


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.cookie)",
        "JAVASCRIPT:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "//evil.example/x.png",
    ],
)
def test_media_addresses_that_are_not_https_are_not_stored(
    personas, client_for, twilio_channel, twilio_double, url
):
    message = _mms(twilio_channel, twilio_double.auth_token, [(url, "image/png")], body="look")
    assert message.media == []
    page = _page(client_for(personas.front_a), message)
    assert "alert(" not in page
    assert "evil.example" not in page


@pytest.mark.parametrize(("env", "kept"), [("development", ["https", "http"]), ("production", ["https"])])
def test_plain_http_media_are_kept_only_in_development(twilio_channel, settings, env, kept):
    settings.CARELINE_ENV = env
    params = inbound_params(
        twilio_channel,
        PAT,
        "",
        media=[("https://api.twilio.com/a", "image/png"), ("http://api.twilio.com/b", "image/png")],
    )
    request = RequestFactory().post(INBOUND, params)
    inbound = TwilioType().parse_inbound(twilio_channel, request)
    assert [item["url"].split(":")[0] for item in inbound.media] == kept


def test_rows_stored_before_the_check_render_harmlessly(personas, client_for, twilio_channel, twilio_double):
    message = _mms(twilio_channel, twilio_double.auth_token, [], body="old row")
    Message.objects.filter(pk=message.pk).update(
        media=[
            {"url": "javascript:alert(1)", "content_type": "image/png"},
            {"url": "data:image/png;base64,AAAA", "content_type": "text/html"},
            {
                "url": "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
                "content_type": "image/jpeg",
            },
            "not even a dict",
        ]
    )
    page = _page(client_for(personas.front_a), message)
    assert "javascript:" not in page
    assert "data:image" not in page
    assert page.count("Attachment withheld") == 2
    # An https address not copied is a plain link, never an image loaded from the provider.
    assert 'href="https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"' in page
    assert '<img src="https://' not in page


def test_a_file_too_large_or_of_another_type_is_not_kept(personas, twilio_channel, twilio_double, media_root):
    big = twilio_double.add_media(PNG + b"\x00" * MAX_ATTACHMENT_BYTES, "image/png")
    html = twilio_double.add_media(b"<html><script>alert(1)</script></html>", "image/png")
    message = _mms(twilio_channel, twilio_double.auth_token, [(big, "image/png"), (html, "image/png")])
    too_big, not_image = message.media
    assert "larger than allowed" in too_big["error"]
    assert not_image["error"] == "not an image or a PDF"
    assert "file" not in too_big and "file" not in not_image
    assert not (media_root / "messaging").exists() or not any((media_root / "messaging").rglob("*.*"))


def test_media_elsewhere_than_the_provider_are_never_fetched_with_its_credentials(
    personas, twilio_channel, twilio_double
):
    # No request leaves: tests fail on any attempt to reach the internet.
    message = _mms(
        twilio_channel, twilio_double.auth_token, [("https://collector.example.net/a.png", "image/png")]
    )
    [item] = message.media
    assert "not the provider's" in item["error"]
    assert not [r for r in twilio_double.requests if "/Media/" in r.path]


def test_the_webhook_answers_before_any_media_is_fetched(personas, twilio_channel, twilio_double):
    url = twilio_double.add_media(PNG, "image/png")
    params = inbound_params(twilio_channel, PAT, "", media=[(url, "image/png")])
    with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
        assert signed_post(Client(), INBOUND, params, twilio_double.auth_token).status_code == 200
    assert not [r for r in twilio_double.requests if "/Media/" in r.path]
    for callback in callbacks:
        callback()
    assert [r for r in twilio_double.requests if "/Media/" in r.path]
    assert Conversation.objects.count() == 1
