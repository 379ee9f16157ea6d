"""The composer's helpers: the live segment counter and image attachments (checked, stored, served safely)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from careline.messaging.models import Message
from careline.messaging.services.attachments import MAX_ATTACHMENT_BYTES
from careline.messaging.tests.inbox_support import NOON_CHICAGO, PAT_NUMBER, texted_by

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
GIF = b"GIF89a" + b"\x00" * 32


pytestmark = [pytest.mark.clock(NOON_CHICAGO), pytest.mark.usefixtures("clock")]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("", "0 segments · GSM-7 · 160 left"),
        ("a" * 160, "1 segment · GSM-7 · 0 left"),
        ("a" * 166, "2 segments · GSM-7 · 140 left"),
        ("Olá 😀", "1 segment · UCS-2 · 64 left"),
    ],
)
def test_the_segment_counter_says_segments_encoding_and_room_left(personas, client_for, body, expected):
    response = client_for(personas.front_a).post(reverse("messaging:segments"), {"body": body})
    assert response.content.decode() == expected


def test_the_segment_counter_warns_when_the_text_is_too_long(personas, client_for, settings):
    body = "a" * (settings.CARELINE_MAX_MESSAGE_LENGTH + 1)
    response = client_for(personas.front_a).post(reverse("messaging:segments"), {"body": body})
    assert "too long" in response.content.decode()


def test_the_segment_counter_only_answers_posts(personas, client_for):
    assert client_for(personas.front_a).get(reverse("messaging:segments")).status_code == 405


def test_an_image_goes_out_as_mms_and_only_allowed_people_can_fetch_it(personas, client_for, media_root):
    conversation = texted_by(PAT_NUMBER)
    client = client_for(personas.front_a)
    upload = SimpleUploadedFile("photo.png", PNG, content_type="image/png")
    response = client.post(
        reverse("messaging:conversation", args=[conversation.pk]), {"body": "Map", "image": upload}
    )
    assert response.status_code == 302
    message = Message.objects.get(body="Map")
    [item] = message.media
    assert item["content_type"] == "image/png"
    stored = media_root / "messaging" / item["file"]
    assert stored.read_bytes() == PNG
    assert "photo" not in stored.name
    name = item["file"].split("/", 1)[1]
    staff_url = reverse("messaging:media", args=[conversation.pk, name])
    fetched = client.get(staff_url)
    assert fetched.status_code == 200
    assert fetched.content == PNG
    assert fetched["Content-Type"] == "image/png"
    assert staff_url in client.get(reverse("messaging:conversation", args=[conversation.pk])).content.decode()
    assert client_for(personas.front_b).get(staff_url).status_code == 403
    assert (
        client.get(reverse("messaging:media", args=[conversation.pk, "..%2Fsecret.png"])).status_code == 404
    )
    # The provider fetches it, signed in as nobody, through the signed URL in Message.media.
    provider_path = item["url"].split("://", 1)[1].split("/", 1)[1]
    provider = Client().get("/" + provider_path)
    assert provider.status_code == 200
    assert provider.content == PNG
    assert Client().get("/" + provider_path[:-3] + "abc").status_code == 404  # a forged token


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("notes.pdf", b"%PDF-1.7 ...", "Attach a JPEG, PNG or GIF image."),
        ("fake.png", b"<script>alert(1)</script>", "Attach a JPEG, PNG or GIF image."),
        ("big.gif", GIF + b"\x00" * MAX_ATTACHMENT_BYTES, "Images can be at most 5 MB."),
        ("empty.png", b"", "file is empty"),
    ],
)
def test_an_attachment_that_is_not_a_small_image_is_refused_and_nothing_is_sent(
    personas, client_for, media_root, name, content, error
):
    conversation = texted_by(PAT_NUMBER)
    upload = SimpleUploadedFile(name, content, content_type="image/png")
    response = client_for(personas.front_a).post(
        reverse("messaging:conversation", args=[conversation.pk]), {"body": "See attached", "image": upload}
    )
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not Message.objects.filter(direction="out").exists()
    assert not (media_root / "messaging").exists() or not any((media_root / "messaging").rglob("*.*"))


def test_an_image_alone_may_be_sent(personas, client_for):
    conversation = texted_by(PAT_NUMBER)
    upload = SimpleUploadedFile("a.gif", GIF, content_type="image/gif")
    response = client_for(personas.front_a).post(
        reverse("messaging:conversation", args=[conversation.pk]), {"image": upload}
    )
    assert response.status_code == 302
    assert Message.objects.get(direction="out").media[0]["content_type"] == "image/gif"
