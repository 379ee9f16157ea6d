"""Twilio webhooks: signatures (Twilio's algorithm), inbound texts and MMS, opt-outs, status callbacks in any order."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime

import pytest
from django.db import connections
from django.test import Client, TestCase

from careline.messaging.models import Message, MessageState
from careline.messaging.outbound.compose import message_send
from careline.messaging.outbound.dispatch import message_dispatch
from careline.messaging.outbound.queue import message_claim
from careline.messaging.testing.fixtures import (
    TOKEN_VARIABLE,
    inbound_params,
    make_twilio_channel,
    signed_post,
    status_params,
)
from careline.patients.models import ConsentEvent, ConsentKind, ConsentMethod

NOON_CHICAGO = datetime(2026, 3, 4, 18, 0, tzinfo=UTC)
MIDNIGHT_CHICAGO = datetime(2026, 3, 5, 6, 0, tzinfo=UTC)
PAT = "+13125550111"
INBOUND = "/webhooks/twilio/messages"
STATUS = "/webhooks/twilio/status"


pytestmark = [pytest.mark.clock(NOON_CHICAGO), pytest.mark.usefixtures("clock")]


def _inbound(personas, channel, token, body="Hello", **kwargs):
    # The test's transaction never commits: run the on-commit work (queueing the processing task, eager
    # here) as the request's commit would in production.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return signed_post(Client(), INBOUND, inbound_params(channel, PAT, body, **kwargs), token)


# --- signatures ------------------------------------------------------------------------------------------


def test_a_signed_inbound_text_is_stored_and_answered_with_empty_twiml(
    personas, twilio_channel, twilio_double
):
    response = _inbound(personas, twilio_channel, twilio_double.auth_token, body="Running late")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert b"<Response/>" in response.content
    message = Message.objects.get(direction=Message.Direction.INBOUND)
    assert message.body == "Running late"
    assert message.from_address == PAT
    assert message.patient == personas.pat


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "bm90IGEgc2lnbmF0dXJl",
        "signed with the wrong token",
        "signed for another URL",
        "signed other params",
    ],
)
def test_a_missing_or_wrong_signature_is_refused_and_nothing_is_stored(
    personas, twilio_channel, twilio_double, signature
):
    params = inbound_params(twilio_channel, PAT, "Hello")
    token = twilio_double.auth_token
    if signature == "signed with the wrong token":
        response = signed_post(Client(), INBOUND, params, "wrong-token")
    elif signature == "signed for another URL":
        response = Client().post(
            INBOUND, data=params, headers={"X-Twilio-Signature": _sig(f"{INBOUND}?x=1", params, token)}
        )
    elif signature == "signed other params":
        response = Client().post(
            INBOUND,
            data=params | {"Body": "Forged"},
            headers={"X-Twilio-Signature": _sig(INBOUND, params, token)},
        )
    else:
        response = signed_post(Client(), INBOUND, params, token, signature=signature)
    assert response.status_code == 403
    assert not Message.objects.filter(direction=Message.Direction.INBOUND, body="Forged").exists()
    assert not Message.objects.filter(direction=Message.Direction.INBOUND, body="Hello").exists()


def _sig(path, params, token):
    from django.conf import settings

    from careline.messaging.testing.fixtures import twilio_signature

    return twilio_signature(f"{settings.PUBLIC_BASE_URL}{path}", params, token)


def test_an_unknown_account_or_number_is_refused(personas, twilio_channel, twilio_double):
    params = inbound_params(twilio_channel, PAT, "Hello") | {"AccountSid": "AC" + "0" * 32}
    assert signed_post(Client(), INBOUND, params, twilio_double.auth_token).status_code == 404
    params = inbound_params(twilio_channel, PAT, "Hello") | {"To": "+15555550000"}
    assert signed_post(Client(), INBOUND, params, twilio_double.auth_token).status_code == 404
    assert not Message.objects.exists()


@pytest.mark.parametrize("who", ["admin", "front_a", "clinician_a", "billing_a", "front_b", None])
def test_webhooks_need_no_sign_in_but_a_valid_signature(
    personas, client_for, twilio_channel, twilio_double, who
):
    client = client_for(getattr(personas, who) if who else None)
    params = inbound_params(twilio_channel, PAT, f"From {who}")
    assert client.post(INBOUND, data=params).status_code == 403
    assert signed_post(client, INBOUND, params, twilio_double.auth_token).status_code == 200
    assert Message.objects.filter(body=f"From {who}").count() == 1


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"AccountSid": "x"},
        {"NumMedia": "many", "MessageSid": ""},
        {"Body": "\x00\udcff"[:1]},
        {"MessageStatus": "exploded"},
    ],
)
@pytest.mark.parametrize("path", [INBOUND, STATUS, f"{STATUS}?m=abc", f"{STATUS}?m=99999999999999999999999"])
def test_no_input_produces_a_500(personas, twilio_channel, twilio_double, params, path):
    base = inbound_params(twilio_channel, PAT, "x") if params.get("AccountSid") is None else {}
    form = base | params
    response = Client().post(
        path, data=form, headers={"X-Twilio-Signature": _sig(path, form, twilio_double.auth_token)}
    )
    assert response.status_code < 500
    assert Client().get(path).status_code == 405


# --- inbound content --------------------------------------------------------------------------------------


def test_inbound_mms_media_are_recorded(personas, twilio_channel, twilio_double):
    media = [
        ("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", "image/jpeg"),
        ("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME2", "image/png"),
    ]
    assert (
        _inbound(personas, twilio_channel, twilio_double.auth_token, body="", media=media).status_code == 200
    )
    message = Message.objects.get(direction=Message.Direction.INBOUND)
    # Recorded with the message; these two the provider does not have, so nothing was copied.
    assert [(item["url"], item["content_type"]) for item in message.media] == media
    assert all(item["error"] and "file" not in item for item in message.media)


def test_a_repeated_webhook_stores_one_message(personas, twilio_channel, twilio_double):
    params = inbound_params(twilio_channel, PAT, "Twice")
    for _ in range(3):
        assert signed_post(Client(), INBOUND, params, twilio_double.auth_token).status_code == 200
    assert Message.objects.filter(body="Twice").count() == 1


def test_provider_opt_out_is_recorded_with_no_careline_reply(personas, twilio_channel, twilio_double):
    assert twilio_channel.keyword_replies == "provider"
    response = _inbound(
        personas, twilio_channel, twilio_double.auth_token, body="stop please", opt_out_type="STOP"
    )
    assert response.status_code == 200
    event = ConsentEvent.objects.filter(phone_number=PAT).order_by("-occurred_at", "-pk").first()
    assert event is not None
    assert event.kind == ConsentKind.REVOKED
    assert event.method == ConsentMethod.PROVIDER
    assert not Message.objects.filter(direction=Message.Direction.OUTBOUND).exists()
    assert twilio_double.messages == []


# --- status callbacks -------------------------------------------------------------------------------------


def _sent_message(personas, channel):
    message = message_send(body="Reminder", patient=personas.pat, channel=channel)
    assert message_dispatch(message.pk) == MessageState.SENT
    message.refresh_from_db()
    return message


def _callback(channel, token, message, status, *, sid=None, error_code=""):
    params = status_params(channel, sid or message.provider_message_id, status, to=PAT, error_code=error_code)
    # Stored by the request, applied on commit (eager here) by the batch step, as in production.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return signed_post(Client(), STATUS, params, token, query=f"m={message.pk}")


@pytest.mark.parametrize("order", list(itertools.permutations(["queued", "sent", "delivered"])))
def test_every_order_of_queued_sent_delivered_ends_delivered(personas, twilio_channel, twilio_double, order):
    message = _sent_message(personas, twilio_channel)
    for status in order:
        assert _callback(twilio_channel, twilio_double.auth_token, message, status).status_code == 200
    message.refresh_from_db()
    assert message.state == MessageState.DELIVERED
    assert message.delivered_at is not None


@pytest.mark.parametrize("order", list(itertools.permutations(["sent", "undelivered", "failed"])))
def test_every_order_of_sent_undelivered_failed_keeps_the_first_final_state(
    personas, twilio_channel, twilio_double, order
):
    message = _sent_message(personas, twilio_channel)
    for status in order:
        _callback(
            twilio_channel,
            twilio_double.auth_token,
            message,
            status,
            error_code="30003" if status != "sent" else "",
        )
    message.refresh_from_db()
    first_final = next(s for s in order if s != "sent")
    assert message.state == first_final
    assert message.error_code == "30003"


def test_a_callback_before_the_sid_is_stored_finds_the_row_by_its_id(personas, twilio_channel, twilio_double):
    message = message_send(body="Early", patient=personas.pat, channel=twilio_channel)
    assert message_claim(message.pk)
    response = _callback(twilio_channel, twilio_double.auth_token, message, "delivered", sid="SM" + "a" * 32)
    assert response.status_code == 200
    message.refresh_from_db()
    assert message.state == MessageState.DELIVERED
    assert message.provider_message_id == "SM" + "a" * 32


def test_read_counts_as_delivered_and_a_wrong_signature_changes_nothing(
    personas, twilio_channel, twilio_double
):
    message = _sent_message(personas, twilio_channel)
    params = status_params(twilio_channel, message.provider_message_id, "read", to=PAT)
    assert signed_post(Client(), STATUS, params, "wrong", query=f"m={message.pk}").status_code == 403
    message.refresh_from_db()
    assert message.state == MessageState.SENT
    assert _callback(twilio_channel, twilio_double.auth_token, message, "read").status_code == 200
    message.refresh_from_db()
    assert message.state == MessageState.DELIVERED


# --- concurrency ------------------------------------------------------------------------------------------


def _five_at_once(channel, token):
    params = inbound_params(channel, PAT, "STOP")
    barrier = threading.Barrier(5)
    codes: list[int] = []

    def deliver() -> None:
        try:
            barrier.wait()
            codes.append(signed_post(Client(), INBOUND, params, token).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return codes


def _assert_one_message_and_one_reply(codes, twilio_double):
    assert codes == [200] * 5
    assert Message.objects.filter(direction=Message.Direction.INBOUND).count() == 1
    assert Message.objects.filter(direction=Message.Direction.OUTBOUND).count() == 1
    assert len(twilio_double.sent_to(PAT)) == 1  # the one opt-out confirmation reached "Twilio"


@pytest.mark.django_db(transaction=True)
def test_five_concurrent_deliveries_store_one_message_and_send_one_reply(
    personas, twilio_double, monkeypatch
):
    monkeypatch.setenv(TOKEN_VARIABLE, twilio_double.auth_token)
    channel = make_twilio_channel(twilio_double, keyword_replies="careline")
    _assert_one_message_and_one_reply(_five_at_once(channel, twilio_double.auth_token), twilio_double)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_five_concurrent_deliveries_on_postgresql_after_hours(personas, twilio_double, monkeypatch, clock):
    clock.move_to(MIDNIGHT_CHICAGO, tick=False)
    monkeypatch.setenv(TOKEN_VARIABLE, twilio_double.auth_token)
    channel = make_twilio_channel(twilio_double, keyword_replies="careline")
    _assert_one_message_and_one_reply(_five_at_once(channel, twilio_double.auth_token), twilio_double)


def test_an_unsubscribed_delivery_report_records_the_opt_out(personas, twilio_channel, twilio_double):
    message = _sent_message(personas, twilio_channel)
    _callback(twilio_channel, twilio_double.auth_token, message, "failed", error_code="21610")
    message.refresh_from_db()
    assert message.state == MessageState.FAILED
    event = ConsentEvent.objects.filter(phone_number=PAT).order_by("-occurred_at", "-pk").first()
    assert event is not None
    assert event.kind == ConsentKind.REVOKED
    assert event.method == ConsentMethod.PROVIDER


def test_a_landline_delivery_report_marks_the_number_a_landline(personas, twilio_channel, twilio_double):
    from careline.patients.models import PatientPhone, PhoneKind

    message = _sent_message(personas, twilio_channel)
    _callback(twilio_channel, twilio_double.auth_token, message, "undelivered", error_code="30006")
    assert PatientPhone.objects.get(number=PAT).kind == PhoneKind.LANDLINE


def test_a_signature_over_either_form_of_the_url_is_accepted_and_others_are_not():
    from twilio.request_validator import RequestValidator

    from careline.messaging.channels.twilio.type import _signature_valid

    validator = RequestValidator("an auth token")
    url = "https://care.example.org/webhooks/twilio/messages"
    params = {"Body": "Running late", "From": PAT, "MessageSid": "SM1"}
    for signed in (url, "https://care.example.org:443/webhooks/twilio/messages"):  # as the console names it
        assert _signature_valid(validator, url, params, validator.compute_signature(signed, params))
    assert not _signature_valid(validator, url, params, validator.compute_signature(url + "?m=1", params))
    assert not _signature_valid(
        validator, url, {**params, "Body": "STOP"}, validator.compute_signature(url, params)
    )
    assert not _signature_valid(validator, url, params, "")
