"""The Twilio type sending with the real `twilio` client to the loopback double: errors, retries, timeouts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from careline.messaging.channels.twilio.type import ENV_TWILIO_NAME, TwilioType
from careline.messaging.models import Channel, Message, MessageState
from careline.messaging.outbound.compose import message_send
from careline.messaging.outbound.dispatch import message_dispatch
from careline.messaging.outbound.sweep import messages_sweep
from careline.messaging.testing.fixtures import TOKEN_VARIABLE, make_twilio_channel
from careline.messaging.testing.twilio_double import Fault
from careline.patients.models import ConsentEvent, ConsentKind, ConsentMethod, PatientPhone, PhoneKind

NOON_CHICAGO = datetime(2026, 3, 4, 18, 0, tzinfo=UTC)  # inside the texting window
PAT = "+13125550111"


pytestmark = [pytest.mark.clock(NOON_CHICAGO), pytest.mark.usefixtures("clock")]


@pytest.fixture
def fast_channel(personas, twilio_double, monkeypatch):
    """A Twilio channel whose client gives up after 0.3 s, so timeout faults are quick."""
    monkeypatch.setenv(TOKEN_VARIABLE, twilio_double.auth_token)
    return make_twilio_channel(twilio_double, timeout_seconds=0.3)


def _send(personas, channel, body="Your visit is confirmed."):
    return message_send(body=body, patient=personas.pat, channel=channel)


def test_a_message_reaches_the_double_with_its_callback_and_sid(personas, twilio_channel, twilio_double):
    message = _send(personas, twilio_channel)
    assert message_dispatch(message.pk) == MessageState.SENT
    message.refresh_from_db()
    [received] = twilio_double.sent_to(PAT)
    assert received["body"] == "Your visit is confirmed."
    assert received["from"] == twilio_channel.address
    assert received["sid"] == message.provider_message_id
    assert received["sid"].startswith("SM")
    assert received["_status_callback"].endswith(f"/webhooks/twilio/status?m={message.pk}")
    [post] = list(twilio_double.iter_posts())
    assert post.authorized
    assert post.status == 201


def test_media_and_a_messaging_service_are_sent(personas, twilio_double, monkeypatch):
    monkeypatch.setenv(TOKEN_VARIABLE, twilio_double.auth_token)
    channel = make_twilio_channel(twilio_double, messaging_service_sid="MG" + "1" * 32)
    message = message_send(
        body="",
        patient=personas.pat,
        channel=channel,
        media=[{"url": "/media/x.jpg", "content_type": "image/jpeg"}],
    )
    assert message_dispatch(message.pk) == MessageState.SENT
    [received] = twilio_double.sent_to(PAT)
    assert received["messaging_service_sid"] == "MG" + "1" * 32
    assert received["from"] is None
    assert received["_media_urls"][0].endswith("/media/x.jpg")
    assert received["_media_urls"][0].startswith("http")


def test_a_wrong_token_fails_the_message_permanently(personas, twilio_channel, twilio_double, monkeypatch):
    monkeypatch.setenv(TOKEN_VARIABLE, "not-the-token")
    message = _send(personas, twilio_channel)
    assert message_dispatch(message.pk) == MessageState.FAILED
    message.refresh_from_db()
    assert message.error_code == "20003"
    assert twilio_double.messages == []


@pytest.mark.parametrize(
    ("fault", "state", "code"),
    [
        (Fault.twilio_error(21211), MessageState.FAILED, "21211"),
        (Fault.twilio_error(30005), MessageState.FAILED, "30005"),
        (Fault.twilio_error(30006), MessageState.FAILED, "30006"),
        (Fault.twilio_error(21610), MessageState.FAILED, "21610"),
        (Fault(status=400, code=21617, message="body too long"), MessageState.FAILED, "21617"),
        (Fault.twilio_error(30003), MessageState.QUEUED, "30003"),
        (Fault(status=500), MessageState.QUEUED, "500"),
        (Fault(status=503), MessageState.QUEUED, "503"),
        (Fault.twilio_error(20429), MessageState.QUEUED, "20429"),
        (Fault(status=429), MessageState.QUEUED, "429"),
    ],
)
def test_each_twilio_error_is_mapped(personas, twilio_channel, twilio_double, fault, state, code):
    twilio_double.fail_next(fault)
    message = _send(personas, twilio_channel)
    assert message_dispatch(message.pk) == state
    message.refresh_from_db()
    assert message.state == state
    assert message.error_code == code
    assert (message.due_at is not None) == (state == MessageState.QUEUED)


def test_unsubscribed_21610_records_an_opt_out_in_the_ledger(personas, twilio_channel, twilio_double):
    twilio_double.fail_to(PAT, Fault.twilio_error(21610))
    message = _send(personas, twilio_channel)
    message_dispatch(message.pk)
    event = ConsentEvent.objects.filter(phone_number=PAT).order_by("-occurred_at", "-pk").first()
    assert event is not None
    assert event.kind == ConsentKind.REVOKED
    assert event.method == ConsentMethod.PROVIDER


def test_landline_30006_marks_the_number_as_a_landline(personas, twilio_channel, twilio_double):
    twilio_double.fail_to(PAT, Fault.twilio_error(30006))
    message_dispatch(_send(personas, twilio_channel).pk)
    assert PatientPhone.objects.get(number=PAT).kind == PhoneKind.LANDLINE


def test_a_500_is_retried_by_the_sweep_and_then_sent_once(personas, twilio_channel, twilio_double, clock):
    twilio_double.fail_next(Fault(status=500))
    message = _send(personas, twilio_channel)
    assert message_dispatch(message.pk) == MessageState.QUEUED
    message.refresh_from_db()
    assert messages_sweep()["enqueued"] == 0  # not due yet
    clock.move_to(message.due_at + timedelta(seconds=1), tick=False)
    assert messages_sweep()["enqueued"] == 1  # eager Celery: dispatched right away
    message.refresh_from_db()
    assert message.state == MessageState.SENT
    assert message.attempts == 2
    assert [r.status for r in twilio_double.iter_posts()] == [500, 201]
    assert len(twilio_double.sent_to(PAT)) == 1


def test_a_temporary_error_on_every_attempt_ends_failed(
    personas, twilio_channel, twilio_double, clock, settings
):
    settings.CARELINE_SEND_MAX_ATTEMPTS = 3
    twilio_double.fail_to(PAT, Fault(status=502))
    message = _send(personas, twilio_channel)
    message_dispatch(message.pk)
    for _ in range(5):
        message.refresh_from_db()
        if message.state != MessageState.QUEUED:
            break
        clock.move_to(message.due_at + timedelta(seconds=1), tick=False)
        messages_sweep()
    message.refresh_from_db()
    assert message.state == MessageState.FAILED
    assert message.attempts == 3
    assert "gave up after 3 attempts" in message.error_message


def test_a_timeout_after_twilio_accepted_is_found_and_not_sent_twice(
    personas, fast_channel, twilio_double, clock
):
    twilio_double.fail_next(Fault.timeout(30, accepted=True))
    message = _send(personas, fast_channel)
    assert message_dispatch(message.pk) == MessageState.SENT
    message.refresh_from_db()
    [accepted] = twilio_double.sent_to(PAT)
    assert message.provider_message_id == accepted["sid"]
    assert message.attempts == 1
    clock.move_to(timezone.now() + timedelta(hours=1), tick=False)
    messages_sweep()
    assert len(twilio_double.sent_to(PAT)) == 1
    # The held post is still unanswered; the only other request was the reconciliation listing.
    assert [r.method for r in twilio_double.requests] == ["GET"]


def test_a_timeout_before_twilio_accepted_is_retried(personas, fast_channel, twilio_double, clock):
    twilio_double.fail_next(Fault.timeout(30, accepted=False))
    message = _send(personas, fast_channel)
    assert message_dispatch(message.pk) == MessageState.QUEUED
    message.refresh_from_db()
    assert message.error_code == "timeout"
    assert twilio_double.messages == []
    clock.move_to(message.due_at + timedelta(seconds=1), tick=False)
    messages_sweep()
    message.refresh_from_db()
    assert message.state == MessageState.SENT
    assert len(twilio_double.sent_to(PAT)) == 1


def test_reconciliation_does_not_take_the_sid_of_an_earlier_identical_text(
    personas, fast_channel, twilio_double
):
    first = _send(personas, fast_channel, body="Same words")
    message_dispatch(first.pk)
    twilio_double.fail_next(Fault.timeout(30, accepted=False))
    second = _send(personas, fast_channel, body="Same words")
    assert message_dispatch(second.pk) == MessageState.QUEUED
    second.refresh_from_db()
    assert second.provider_message_id is None


def test_a_refused_connection_is_temporary_and_not_ambiguous(personas, twilio_channel, twilio_double):
    twilio_double.stop()
    message = _send(personas, twilio_channel)
    assert message_dispatch(message.pk) == MessageState.QUEUED
    message.refresh_from_db()
    assert message.error_code == "connection"


def test_find_sent_answers_none_when_twilio_has_nothing(personas, twilio_channel):
    message = _send(personas, twilio_channel)
    assert TwilioType().find_sent(twilio_channel, message, since=timezone.now()) is None


def test_the_client_is_cached_per_channel_and_rebuilt_when_settings_change(
    personas, twilio_channel, twilio_double, monkeypatch
):
    kind = TwilioType()
    assert kind.client(twilio_channel) is kind.client(twilio_channel)
    monkeypatch.setenv(TOKEN_VARIABLE, "rotated")
    assert kind.client(twilio_channel).password == "rotated"


def test_no_message_content_reaches_the_logs(personas, twilio_channel, twilio_double, caplog):
    caplog.set_level("DEBUG")
    twilio_double.fail_next(Fault.twilio_error(21211))
    message_dispatch(_send(personas, twilio_channel, body="Secret words").pk)
    message_dispatch(_send(personas, twilio_channel, body="Secret words").pk)
    assert "Secret words" not in caplog.text
    assert PAT not in caplog.text
    assert "5550111" not in caplog.text


def test_the_environment_channel_sends_to_the_api_base_url(personas, twilio_double, settings, monkeypatch):
    settings.TWILIO_ACCOUNT_SID = twilio_double.account_sid
    settings.TWILIO_AUTH_TOKEN_SET = True
    settings.TWILIO_FROM_NUMBER = "+15555550142"
    settings.TWILIO_MESSAGING_SERVICE_SID = None
    settings.TWILIO_API_BASE_URL = twilio_double.url
    settings.TWILIO_KEYWORD_REPLIES = "provider"
    settings.TWILIO_RATE_PER_SECOND = None
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", twilio_double.auth_token)
    message = message_send(body="From the environment", patient=personas.pat)
    assert message.channel.name == ENV_TWILIO_NAME
    assert message.channel.default_for == "sms"
    assert message_dispatch(message.pk) == MessageState.SENT
    [received] = twilio_double.sent_to(PAT)
    assert received["from"] == "+15555550142"
    assert received["body"] == "From the environment"
    assert Channel.objects.filter(type_code="twilio").count() == 1
    assert Message.objects.get(pk=message.pk).provider_message_id == received["sid"]
