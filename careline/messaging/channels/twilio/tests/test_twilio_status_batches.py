"""Status callbacks stored by the webhook and applied in batches: forward moves only, any order, any repeat."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client, RequestFactory, TestCase

from careline.core.lean import LeanWSGIHandler
from careline.messaging.models import Conversation, Message, MessageState, StatusCallback
from careline.messaging.outbound import status_callbacks
from careline.messaging.outbound.status_callbacks import (
    UNMATCHED_AFTER,
    UNMATCHED_AFTER_ATTEMPTS,
    status_callback_store,
    status_callbacks_apply,
    status_callbacks_insert,
)
from careline.messaging.testing.fixtures import inbound_params, signed_post, status_params

NOON_CHICAGO = datetime(2026, 3, 4, 18, 0, tzinfo=UTC)
PAT = "+13125550111"
STATUS = "/webhooks/twilio/status"
INBOUND = "/webhooks/twilio/messages"

pytestmark = [pytest.mark.clock(NOON_CHICAGO), pytest.mark.usefixtures("clock")]


def _outbound(channel, count, *, state=MessageState.SENT, sid_prefix="SMt"):
    conversation, _ = Conversation.objects.get_or_create(channel=channel, contact=PAT)
    rows = [
        Message(
            conversation=conversation,
            channel=channel,
            direction=Message.Direction.OUTBOUND,
            to_address=PAT,
            from_address=channel.address,
            body="Reminder",
            state=state,
            provider_message_id=f"{sid_prefix}{index:030d}",
        )
        for index in range(count)
    ]
    return Message.objects.bulk_create(rows)


def _post(channel, token, message, status, *, error_code=""):
    """A signed callback, stored but not applied (the transaction's on-commit work is not run)."""
    params = status_params(channel, message.provider_message_id, status, to=PAT, error_code=error_code)
    return signed_post(Client(), STATUS, params, token, query=f"m={message.pk}")


def test_duplicated_and_reordered_callbacks_in_one_batch_only_move_forward(
    personas, twilio_channel, twilio_double
):
    first, second, cancelled = _outbound(twilio_channel, 3)
    Message.objects.filter(pk=cancelled.pk).update(state=MessageState.CANCELLED)
    token = twilio_double.auth_token
    for message, status in [
        (first, "delivered"),
        (first, "sent"),
        (first, "delivered"),
        (first, "queued"),
        (second, "undelivered"),
        (second, "delivered"),
        (second, "sent"),
        (second, "undelivered"),
        (cancelled, "delivered"),
    ]:
        assert (
            _post(
                twilio_channel, token, message, status, error_code="30003" * (status == "undelivered")
            ).status_code
            == 200
        )
    assert StatusCallback.objects.filter(applied_at__isnull=True).count() == 9
    counts = status_callbacks_apply()
    assert counts == {"callbacks": 9, "moved": 2, "waiting": 0, "unmatched": 0}
    states = dict(
        Message.objects.filter(pk__in=[first.pk, second.pk, cancelled.pk]).values_list("pk", "state")
    )
    assert states == {first.pk: "delivered", second.pk: "undelivered", cancelled.pk: "cancelled"}
    second.refresh_from_db()
    assert second.error_code == "30003"
    assert second.finished_at is not None
    # A later batch with the same reports again (Twilio retried them) changes nothing.
    for status in ("sent", "failed", "queued"):
        _post(twilio_channel, token, first, status)
    assert status_callbacks_apply()["moved"] == 0
    first.refresh_from_db()
    assert first.state == MessageState.DELIVERED
    assert not StatusCallback.objects.filter(applied_at__isnull=True).exists()


def test_a_batch_applies_many_callbacks_with_a_bounded_number_of_queries(
    personas, twilio_channel, django_assert_max_num_queries
):
    messages = _outbound(twilio_channel, 300)
    for index, message in enumerate(messages):
        for state in ("delivered", "sent") if index % 2 else ("sent", "delivered", "delivered"):
            status_callback_store(
                channel_id=twilio_channel.pk,
                message_id=message.pk,
                provider_message_id=message.provider_message_id,
                state=state,
            )
    with django_assert_max_num_queries(12):
        counts = status_callbacks_apply()
    assert counts["callbacks"] == 750
    assert counts["moved"] == 300
    assert set(Message.objects.filter(pk__in=[m.pk for m in messages]).values_list("state", flat=True)) == {
        "delivered"
    }


def test_a_callback_for_an_unknown_message_waits_and_is_applied_when_the_message_appears(
    personas, twilio_channel
):
    status_callback_store(
        channel_id=twilio_channel.pk,
        message_id=None,
        provider_message_id="SMlate" + "0" * 26,
        state="delivered",
    )
    assert status_callbacks_apply() == {"callbacks": 1, "moved": 0, "waiting": 1, "unmatched": 0}
    # The worker stores the provider's id after the report came in.
    [message] = _outbound(twilio_channel, 1)
    Message.objects.filter(pk=message.pk).update(provider_message_id="SMlate" + "0" * 26)
    assert status_callbacks_apply()["moved"] == 1
    message.refresh_from_db()
    assert message.state == MessageState.DELIVERED


def test_a_callback_whose_message_never_appears_is_kept_and_counted_as_unmatched(
    personas, twilio_channel, clock
):
    status_callback_store(
        channel_id=twilio_channel.pk, message_id=None, provider_message_id="SMnever", state="delivered"
    )
    results = [status_callbacks_apply() for _ in range(UNMATCHED_AFTER_ATTEMPTS)]
    assert results[-1] == {"callbacks": 1, "moved": 0, "waiting": 1, "unmatched": 0}  # not long enough yet
    clock.shift(UNMATCHED_AFTER)
    assert status_callbacks_apply() == {"callbacks": 1, "moved": 0, "waiting": 0, "unmatched": 1}
    callback = StatusCallback.objects.get()
    assert callback.unmatched and callback.applied_at is not None
    assert status_callbacks_apply()["callbacks"] == 0


def test_a_callback_naming_a_message_of_another_account_changes_nothing(
    personas, twilio_channel, twilio_double
):
    from careline.messaging.testing.fixtures import make_twilio_channel

    other = make_twilio_channel(
        twilio_double, number="+15555550177", default=False, account_sid="AC" + "9" * 32
    )
    [theirs] = _outbound(other, 1)
    status_callback_store(
        channel_id=twilio_channel.pk, message_id=theirs.pk, provider_message_id="", state="failed"
    )
    status_callbacks_apply()
    theirs.refresh_from_db()
    assert theirs.state == MessageState.SENT


@pytest.mark.parametrize("signature", ["", "forged"])
def test_an_unsigned_or_forged_request_is_refused_and_stores_nothing(
    personas, twilio_channel, twilio_double, signature
):
    [message] = _outbound(twilio_channel, 1)
    params = status_params(twilio_channel, message.provider_message_id, "delivered", to=PAT)
    response = signed_post(
        Client(), STATUS, params, twilio_double.auth_token, query=f"m={message.pk}", signature=signature
    )
    assert response.status_code == 403
    inbound = signed_post(
        Client(),
        INBOUND,
        inbound_params(twilio_channel, PAT, "Hi"),
        twilio_double.auth_token,
        signature=signature,
    )
    assert inbound.status_code == 403
    assert not StatusCallback.objects.exists()
    assert not Message.objects.filter(direction=Message.Direction.INBOUND).exists()


def test_a_crash_after_storing_loses_nothing_the_periodic_step_applies_it(
    personas, twilio_channel, twilio_double
):
    from careline.celery import _beat_schedule
    from careline.messaging.tasks import apply_status_callbacks

    [message] = _outbound(twilio_channel, 1)
    # The process dies after the INSERT committed, before its trigger asked for a batch: nothing ran.
    assert _post(twilio_channel, twilio_double.auth_token, message, "delivered").status_code == 200
    message.refresh_from_db()
    assert message.state == MessageState.SENT
    assert "messaging.status_callbacks_apply" in {entry["task"] for entry in _beat_schedule().values()}
    assert apply_status_callbacks()["moved"] == 1
    message.refresh_from_db()
    assert message.state == MessageState.DELIVERED


def test_a_stored_callback_is_applied_on_commit(personas, twilio_channel, twilio_double):
    [message] = _outbound(twilio_channel, 1)
    with TestCase.captureOnCommitCallbacks(execute=True):
        _post(twilio_channel, twilio_double.auth_token, message, "delivered")
    message.refresh_from_db()
    assert message.state == MessageState.DELIVERED


def _serve(handler, request):
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    answer = {}

    def start_response(status, headers):
        answer["status"] = int(status.split()[0])
        answer["headers"] = dict(headers)

    # As Django's test client does: the test's transaction must survive the end of the request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        response = handler(request.environ, start_response)
        body = b"".join(response)
        response.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return answer["status"], answer["headers"], body


def test_the_wsgi_handler_serves_webhooks_without_middleware_and_pages_with_it(
    personas, twilio_channel, twilio_double
):
    from django.conf import settings

    from careline.messaging.testing.fixtures import twilio_signature

    handler = LeanWSGIHandler()
    [message] = _outbound(twilio_channel, 1)
    params = status_params(twilio_channel, message.provider_message_id, "delivered", to=PAT)
    url = f"{STATUS}?m={message.pk}"
    signature = twilio_signature(f"{settings.PUBLIC_BASE_URL}{url}", params, twilio_double.auth_token)
    request = RequestFactory().post(url, data=params, headers={"X-Twilio-Signature": signature})
    status, headers, body = _serve(handler, request)
    assert status == 200 and b"<Response/>" in body
    assert "Content-Security-Policy" not in headers  # no middleware ran
    # A length, as CommonMiddleware gives pages: without it gunicorn would answer in chunks.
    assert headers["Content-Length"] == str(len(body))
    assert StatusCallback.objects.count() == 1
    forged = RequestFactory().post(url, data=params, headers={"X-Twilio-Signature": "forged"})
    forged_status, forged_headers, forged_body = _serve(handler, forged)
    assert forged_status == 403 and forged_headers["Content-Length"] == str(len(forged_body))
    assert StatusCallback.objects.count() == 1
    bad_host = RequestFactory().post(
        url, data=params, headers={"X-Twilio-Signature": signature}, HTTP_HOST="evil.example"
    )
    assert _serve(handler, bad_host)[0] == 400
    page_status, page_headers, _ = _serve(handler, RequestFactory().get("/"))
    assert page_status in (200, 302)
    assert "Content-Security-Policy" in page_headers or "Content-Security-Policy-Report-Only" in page_headers


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_are_committed_together_and_each_answer_waits_for_its_row(
    personas, twilio_double
):
    import threading

    from django.db import connections

    from careline.messaging.testing.fixtures import make_twilio_channel

    channel = make_twilio_channel(twilio_double)
    messages = _outbound(channel, 20)
    barrier = threading.Barrier(len(messages))
    stored: list[int] = []

    def deliver(message):
        try:
            barrier.wait()
            status_callback_store(
                channel_id=channel.pk,
                message_id=message.pk,
                provider_message_id=message.provider_message_id,
                state="delivered",
            )
            # Answered only once the row is committed: another connection sees it.
            stored.append(StatusCallback.objects.filter(message_id=message.pk).count())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver, args=(message,)) for message in messages]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert stored == [1] * len(messages)
    assert StatusCallback.objects.count() == len(messages)
    status_callbacks_apply()
    assert set(Message.objects.filter(pk__in=[m.pk for m in messages]).values_list("state", flat=True)) == {
        "delivered"
    }


@pytest.mark.django_db(transaction=True)
def test_a_failed_group_commit_fails_each_of_its_requests(personas, twilio_double, monkeypatch):
    from careline.messaging.testing.fixtures import make_twilio_channel

    channel = make_twilio_channel(twilio_double)
    [message] = _outbound(channel, 1)

    def refuse(*args, **kwargs):
        raise RuntimeError("database away")

    monkeypatch.setattr(status_callbacks, "status_callbacks_insert", refuse)
    with pytest.raises(RuntimeError):
        status_callback_store(
            channel_id=channel.pk, message_id=message.pk, provider_message_id="", state="delivered"
        )
    assert not StatusCallback.objects.exists()


def test_the_group_commit_writes_the_rows_the_orm_writes(personas, twilio_channel):
    def reports() -> list[StatusCallback]:
        return [
            StatusCallback(
                channel_id=twilio_channel.pk,
                message_id=41,
                provider_message_id="SMfirst",
                state="undelivered",
                error_code="30003",
                error_message="Unreachable destination handset",
                opted_out=True,
                landline=True,
            ),
            StatusCallback(
                channel_id=twilio_channel.pk, message_id=None, provider_message_id="SMnext", state="sent"
            ),
        ]

    status_callbacks_insert(reports())
    StatusCallback.objects.bulk_create(reports())
    stored = list(StatusCallback.objects.order_by("pk").values())
    for row in stored:
        row.pop("id")
    assert len(stored) == 4
    assert stored[:2] == stored[2:]


def test_a_waiting_callback_never_holds_up_newer_ones(personas, twilio_channel):
    status_callback_store(
        channel_id=twilio_channel.pk, message_id=None, provider_message_id="SMnotyet", state="delivered"
    )
    assert status_callbacks_apply(limit=1)["waiting"] == 1
    [message] = _outbound(twilio_channel, 1)
    status_callback_store(
        channel_id=twilio_channel.pk,
        message_id=message.pk,
        provider_message_id=message.provider_message_id,
        state="delivered",
    )
    assert status_callbacks_apply(limit=1)["moved"] == 1


def test_warm_up_loads_every_url_module_and_freezes_what_loading_made():
    import gc

    from django.urls import clear_url_caches, get_resolver

    from careline.core.lean import application_warm_up

    clear_url_caches()
    gc.unfreeze()
    try:
        application_warm_up()
        resolver = get_resolver()
        # The reverse map is filled from every included URL module, the provider webhooks' among them.
        assert resolver._populated and "webhook-twilio-status" in resolver.reverse_dict
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
