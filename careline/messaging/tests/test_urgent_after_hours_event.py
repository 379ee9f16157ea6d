"""Messaging announces an urgent text after hours and lets a registered responder change the answer, without
knowing who responds (the on-call line registers itself; here a stand-in does)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from careline.core.events import Phase, subscribe, unsubscribe
from careline.messaging.channels.base import InboundMessage
from careline.messaging.events import UrgentTextAfterHours
from careline.messaging.models import Message, MessageKind
from careline.messaging.services.channels import simulator_channel
from careline.messaging.services.inbound import inbound_receive
from careline.messaging.urgent import (
    text_fold,
    urgent_phrase_in,
    urgent_responder_register,
    urgent_responder_unregister,
)

CHICAGO = ZoneInfo("America/Chicago")
_ids = iter(range(1, 10**9))


@pytest.fixture
def heard():
    events: list[UrgentTextAfterHours] = []
    subscribe(UrgentTextAfterHours, events.append, phase=Phase.IN_TRANSACTION)
    yield events
    unsubscribe(UrgentTextAfterHours, events.append, phase=Phase.IN_TRANSACTION)


@pytest.fixture
def only_standin():
    """The on-call line is installed; stand in for it so the test decides whether someone is told."""
    from careline.messaging import urgent

    saved = dict(urgent._responders)
    urgent._responders.clear()
    yield
    urgent._responders.clear()
    urgent._responders.update(saved)


def _text(time_machine, moment, body):
    time_machine.move_to(moment, tick=False)
    channel = simulator_channel()
    inbound_receive(
        channel=channel,
        inbound=InboundMessage(
            provider_message_id=f"U-{next(_ids)}",
            from_address="+13125550111",
            to_address=channel.address,
            body=body,
        ),
    )


def _answers():
    return list(Message.objects.filter(kind=MessageKind.AUTO_REPLY).values_list("body", flat=True))


def test_the_matcher_folds_case_accents_and_apostrophes_and_wants_whole_words():
    assert text_fold("Can’t  BREATHE!") == "cant breathe"
    assert urgent_phrase_in("I cant breathe well", ["can't breathe"]) == "can't breathe"
    assert urgent_phrase_in("Me duele: DOLOR DE PÉCHO", ["dolor de pecho"]) == "dolor de pecho"
    assert urgent_phrase_in("my painting of a chest", ["chest pain"]) == ""


def test_the_portals_urgent_words_are_the_list_texts_are_checked_against(personas):
    assert urgent_phrase_in("sudden chest pain") == "chest pain"  # seeded by the portal's migration


def test_an_urgent_text_after_hours_is_announced_and_without_a_responder_gets_the_usual_answer(
    personas, time_machine, heard, only_standin
):
    _text(time_machine, datetime(2026, 12, 8, 3, 0, tzinfo=CHICAGO), "chest pain")
    [event] = heard
    assert event.location_id == personas.location_a.pk and event.phrase == "chest pain"
    [answer] = _answers()
    assert "will answer when we open" in answer


def test_a_responder_that_told_someone_changes_the_answer(personas, time_machine, heard, only_standin):
    urgent_responder_register(code="standin", covers=lambda location_id: True)
    try:
        _text(time_machine, datetime(2026, 12, 8, 3, 0, tzinfo=CHICAGO), "chest pain")
    finally:
        urgent_responder_unregister("standin")
    [answer] = _answers()
    assert "told the on-call clinician" in answer


def test_nothing_is_announced_in_opening_hours_or_for_ordinary_words(personas, time_machine, heard):
    _text(time_machine, datetime(2026, 12, 8, 10, 0, tzinfo=CHICAGO), "chest pain")
    _text(time_machine, datetime(2026, 12, 8, 3, 0, tzinfo=CHICAGO), "what time do you open?")
    assert heard == []
