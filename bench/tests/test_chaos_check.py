"""The chaos run's history checker finds what it must: a text lost, a text sent twice with no ambiguous answer
to excuse it (and excuses the ones that had one), a text after an opt-out, an inbound text never stored."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from bench.chaos_check import Clinic, Event, check
from careline.messaging.models import Channel, Conversation, Message, MessageKind, MessageState
from careline.messaging.testing.twilio_double import RecordedRequest
from careline.patients.models import ConsentEvent, ConsentKind

pytestmark = pytest.mark.django_db
TIMEOUT = 3.0
NUMBER = "+16135550001"


class _Double:
    """What the checker reads of the double: its record of requests."""

    def __init__(self, requests: list[RecordedRequest]) -> None:
        self.requests = requests


def _post(
    message: Message, *, sid: str | None, arrived: float, answered_after: float = 0.1
) -> RecordedRequest:
    form = {
        "To": [message.to_address],
        "Body": [message.body],
        "StatusCallback": [f"http://127.0.0.1:8000/webhooks/twilio/status?m={message.pk}"],
    }
    return RecordedRequest(
        "POST",
        "/2010-04-01/Accounts/AC1/Messages.json",
        {},
        form,
        "AC1",
        True,
        201 if sid else 500,
        sid,
        at=arrived + answered_after,
        arrived=arrived,
    )


@pytest.fixture
def clinic() -> Clinic:
    channel = Channel.objects.create(name="Twilio", type_code="twilio", address="+15555550177", config={})
    return Clinic(channel=channel, numbers=[NUMBER], opted_out=set(), reminders=[])


def _text(clinic: Clinic, state: str, *, sid: str = "", to: str = NUMBER) -> Message:
    conversation, _ = Conversation.objects.get_or_create(channel=clinic.channel, contact=to)
    return Message.objects.create(
        conversation=conversation,
        channel=clinic.channel,
        direction=Message.Direction.OUTBOUND,
        kind=MessageKind.AUTOMATED,
        to_address=to,
        body="Reminder",
        state=state,
        provider_message_id=sid or None,
    )


def _check(clinic: Clinic, requests: list[RecordedRequest], *, events=(), inbound=()):
    return check(clinic, _Double(requests), list(inbound), list(events), client_timeout=TIMEOUT)  # type: ignore[arg-type]


def test_a_text_accepted_once_and_delivered_keeps_every_guarantee(clinic):
    text = _text(clinic, MessageState.DELIVERED, sid="SM1")
    history = _check(clinic, [_post(text, sid=None, arrived=1.0), _post(text, sid="SM1", arrived=2.0)])
    assert history.problems == [] and history.duplicates == []


def test_a_text_left_queued_is_lost(clinic):
    _text(clinic, MessageState.QUEUED)
    assert _check(clinic, []).problems == ["lost: 1 outbound texts ended queued"]


def test_a_text_accepted_twice_with_both_answers_on_time_is_an_unexplained_duplicate(clinic):
    text = _text(clinic, MessageState.DELIVERED, sid="SM2")
    history = _check(clinic, [_post(text, sid="SM1", arrived=1.0), _post(text, sid="SM2", arrived=5.0)])
    assert history.problems == [f"duplicate: text {text.pk} accepted 2 times with no ambiguous answer"]


def test_a_duplicate_after_a_stalled_answer_or_a_killed_worker_is_explained(clinic):
    stalled = _text(clinic, MessageState.DELIVERED, sid="SM2", to="+16135550002")
    killed = _text(clinic, MessageState.DELIVERED, sid="SM4", to="+16135550003")
    requests = [
        _post(stalled, sid="SM1", arrived=1.0, answered_after=TIMEOUT + 2),
        _post(stalled, sid="SM2", arrived=10.0),
        _post(killed, sid="SM3", arrived=1.0),
        _post(killed, sid="SM4", arrived=30.0),
    ]
    history = _check(clinic, requests, events=[Event(at=12.0, what="kill worker 0")])
    assert history.problems == []
    assert sorted(d["message"] for d in history.duplicates) == [stalled.pk, killed.pk]
    assert all(d["why"] for d in history.duplicates)


def test_a_text_accepted_after_its_number_opted_out_is_found(clinic):
    ConsentEvent.objects.create(
        phone_number=NUMBER,
        kind=ConsentKind.REVOKED,
        method="keyword",
        occurred_at=timezone.now() - timedelta(minutes=1),
    )
    text = _text(clinic, MessageState.DELIVERED, sid="SM1")
    history = _check(clinic, [_post(text, sid="SM1", arrived=time.time())])
    assert history.figures["texts_after_opt_out"] == 1
    assert history.problems == ["1 texts accepted by the provider after their number opted out"]


def test_an_inbound_text_posted_but_never_stored_is_lost(clinic):
    history = _check(clinic, [], inbound=[{"MessageSid": "SMin1"}])
    assert history.problems == ["lost: 1 inbound texts answered 2xx but not stored"]
