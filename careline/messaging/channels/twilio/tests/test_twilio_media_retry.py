"""Copies of patients' media are durable: a temporary provider failure is retried with backoff by the
media sweep, a permanent one is final, a worker that dies loses nothing, and a duplicate task copies once;
the thread says "copying…", shows the copy, or says why it failed."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client, TestCase
from django.urls import reverse

from careline.messaging.models import Message
from careline.messaging.services.inbound import inbound_process
from careline.messaging.services.inbound_media import (
    COPIED,
    FAILED,
    LEASE,
    MAX_ATTEMPTS,
    PENDING,
    QUEUED_GRACE,
    inbound_media_copy,
    inbound_media_requeue,
    media_item_state,
    media_retry_delay,
)
from careline.messaging.tasks import copy_inbound_media
from careline.messaging.testing.fixtures import inbound_params, signed_post
from careline.messaging.testing.twilio_double import Fault

NOON_CHICAGO = datetime(2026, 3, 4, 18, 0, tzinfo=UTC)
PAT = "+13125550111"
INBOUND = "/webhooks/twilio/messages"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


pytestmark = [pytest.mark.clock(NOON_CHICAGO), pytest.mark.usefixtures("clock")]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _mms(channel, double, *, execute=True):
    url = double.add_media(PNG, "image/png")
    params = inbound_params(channel, PAT, "", media=[(url, "image/png")])
    with TestCase.captureOnCommitCallbacks(execute=execute):
        assert signed_post(Client(), INBOUND, params, double.auth_token).status_code == 200
    return Message.objects.get(direction=Message.Direction.INBOUND)


def _fetches(double):
    return [r for r in double.requests if "/Media/" in r.path]


def _thread(client, message):
    return client.get(reverse("messaging:conversation", args=[message.conversation_id])).content.decode()


def test_a_temporary_failure_is_retried_after_a_backoff_and_then_copied(
    personas, client_for, twilio_channel, twilio_double, media_root, clock
):
    twilio_double.fail_media(Fault(status=503))
    message = _mms(twilio_channel, twilio_double)
    [item] = message.media
    assert item["state"] == PENDING
    assert message.media_attempts == 1
    assert message.media_due_at == NOON_CHICAGO + media_retry_delay(1)
    client = client_for(personas.front_a)
    assert "copying…" in _thread(client, message)

    clock.move_to(message.media_due_at - timedelta(seconds=1))
    assert inbound_media_requeue() == 0  # not before its time
    assert len(_fetches(twilio_double)) == 1

    clock.move_to(message.media_due_at)
    assert inbound_media_requeue() == 1
    message.refresh_from_db()
    [item] = message.media
    assert item["state"] == COPIED
    assert (media_root / "messaging" / item["file"]).read_bytes() == PNG
    assert message.media_due_at is None
    page = _thread(client, message)
    assert "copying…" not in page
    assert '<img src="/' in page
    assert len(_fetches(twilio_double)) == 2


def test_the_backoff_grows_and_temporary_failures_stop_at_the_limit(
    personas, client_for, twilio_channel, twilio_double, clock
):
    twilio_double.fail_media(*[Fault(status=500)] * (MAX_ATTEMPTS - 1), Fault(status=429))
    message = _mms(twilio_channel, twilio_double)
    tried_at = [NOON_CHICAGO]
    for _ in range(1, MAX_ATTEMPTS):
        message.refresh_from_db()
        assert message.media[0]["state"] == PENDING
        tried_at.append(message.media_due_at)
        clock.move_to(message.media_due_at)
        assert inbound_media_requeue() == 1
    message.refresh_from_db()
    [item] = message.media
    assert item["state"] == FAILED
    assert item["error"] == f"the provider did not give the file ({MAX_ATTEMPTS} tries)"
    assert message.media_due_at is None and message.media_attempts == MAX_ATTEMPTS
    assert len(_fetches(twilio_double)) == MAX_ATTEMPTS
    gaps = [later - earlier for earlier, later in itertools.pairwise(tried_at)]
    assert gaps == [media_retry_delay(n) for n in range(1, MAX_ATTEMPTS)]
    assert gaps[1] > gaps[0]

    clock.shift(timedelta(days=2))
    assert inbound_media_requeue() == 0
    assert f"not copied: the provider did not give the file ({MAX_ATTEMPTS} tries)" in _thread(
        client_for(personas.front_a), message
    )


def test_a_provider_timeout_is_temporary(personas, twilio_channel, twilio_double):
    twilio_channel.config["timeout_seconds"] = 0.3
    twilio_channel.save()
    twilio_double.fail_media(Fault(status=200, delay=5))  # held longer than the client waits
    message = _mms(twilio_channel, twilio_double)
    twilio_double.release()
    [item] = message.media
    assert item["state"] == PENDING
    assert item["error"] == "the provider did not give the file"
    assert message.media_due_at == NOON_CHICAGO + media_retry_delay(1)


def test_a_permanent_failure_is_final_and_its_reason_is_shown(
    personas, client_for, twilio_channel, twilio_double, clock
):
    twilio_double.fail_media(Fault(status=404))
    message = _mms(twilio_channel, twilio_double)
    [item] = message.media
    assert item["state"] == FAILED
    assert item["error"] == "the provider answered 404 for the media"
    assert message.media_due_at is None
    clock.shift(timedelta(days=1))
    assert inbound_media_requeue() == 0
    assert len(_fetches(twilio_double)) == 1
    assert "not copied: the provider answered 404 for the media" in _thread(
        client_for(personas.front_a), message
    )


def test_media_are_copied_by_the_sweep_when_the_worker_died_after_processing(
    personas, twilio_channel, twilio_double, clock
):
    message = _mms(twilio_channel, twilio_double, execute=False)  # the processing task never ran
    assert message.media_due_at == NOON_CHICAGO
    assert inbound_media_requeue() == 0  # the first attempt belongs to the processing task
    inbound_process(message.pk)  # processed, then the worker died before copying
    assert inbound_media_requeue() == 1
    message.refresh_from_db()
    assert message.media[0]["state"] == COPIED
    assert message.media_due_at is None


def test_a_worker_dying_mid_copy_leaves_the_media_due_when_its_claim_runs_out(
    personas, twilio_channel, twilio_double, clock, monkeypatch
):
    message = _mms(twilio_channel, twilio_double, execute=False)
    inbound_process(message.pk)
    from careline.messaging.channels.twilio.type import TwilioType

    def dies(*args, **kwargs):
        raise SystemExit("the worker was killed")

    with monkeypatch.context() as patched:
        patched.setattr(TwilioType, "fetch_media", dies)
        with pytest.raises(SystemExit):
            inbound_media_copy(message.pk)
    message.refresh_from_db()
    assert message.media[0]["state"] == PENDING
    assert message.media_due_at == NOON_CHICAGO + LEASE  # claimed: nobody else copies meanwhile
    assert inbound_media_requeue() == 0

    clock.move_to(NOON_CHICAGO + LEASE)
    assert inbound_media_requeue() == 1
    message.refresh_from_db()
    assert message.media[0]["state"] == COPIED
    assert message.media_attempts == 2


def test_duplicate_copy_tasks_fetch_once(personas, twilio_channel, twilio_double, media_root):
    message = _mms(twilio_channel, twilio_double, execute=False)
    inbound_process(message.pk)
    assert copy_inbound_media.delay([message.pk, message.pk]).get() == 1
    assert inbound_media_copy(message.pk) == 0
    assert len(_fetches(twilio_double)) == 1
    assert len(list((media_root / "messaging").rglob("*.png"))) == 1


def test_a_copy_that_outlived_its_claim_is_discarded(
    personas, twilio_channel, twilio_double, media_root, monkeypatch
):
    """A worker slower than its lease must not overwrite the result of the worker that took over."""
    message = _mms(twilio_channel, twilio_double, execute=False)
    inbound_process(message.pk)
    from careline.messaging.channels.twilio.type import TwilioType

    original = TwilioType.fetch_media

    def slow(self, channel, url, *, max_bytes):
        data = original(self, channel, url, max_bytes=max_bytes)
        # Meanwhile the lease ran out and another worker claimed the message.
        Message.objects.filter(pk=message.pk).update(media_due_at=NOON_CHICAGO + 2 * LEASE)
        return data

    with monkeypatch.context() as patched:
        patched.setattr(TwilioType, "fetch_media", slow)
        assert inbound_media_copy(message.pk) == 0
    message.refresh_from_db()
    assert message.media[0]["state"] == PENDING
    assert not list((media_root / "messaging").rglob("*.png"))


def test_media_left_uncopied_before_retries_existed_are_tried_again(
    personas, twilio_channel, twilio_double, media_root
):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("careline.messaging.migrations.0008_inbound_media_copy_due")
    message = _mms(twilio_channel, twilio_double, execute=False)
    inbound_process(message.pk)
    never_tried = twilio_double.add_media(PNG, "image/png")
    hiccup = twilio_double.add_media(PNG, "image/png")
    legacy = [
        {"url": never_tried, "content_type": "image/png"},
        {"url": hiccup, "content_type": "image/png", "error": "the provider did not give the file"},
        {"url": hiccup, "content_type": "image/png", "error": "not an image or a PDF"},
        "not even a dict",
    ]
    Message.objects.filter(pk=message.pk).update(media=legacy, media_due_at=None)
    migration.mark_uncopied_media_due(apps, None)
    assert inbound_media_requeue() == 1
    message.refresh_from_db()
    states = [media_item_state(item, due=False) if isinstance(item, dict) else item for item in message.media]
    assert states == [COPIED, COPIED, FAILED, "not even a dict"]


def test_a_sweep_queues_due_media_once_and_again_only_when_the_task_was_lost(
    personas, twilio_channel, twilio_double, clock, monkeypatch
):
    message = _mms(twilio_channel, twilio_double, execute=False)
    inbound_process(message.pk)
    queued = []
    with monkeypatch.context() as patched:
        patched.setattr(copy_inbound_media, "delay", queued.append)  # the broker loses every task
        assert inbound_media_requeue() == 1
        assert inbound_media_requeue() == 0  # the next sweep, while the task waits for a worker
        clock.shift(QUEUED_GRACE)
        assert inbound_media_requeue() == 1
    assert queued == [[message.pk], [message.pk]]
    assert copy_inbound_media.delay(queued[-1]).get() == 1
