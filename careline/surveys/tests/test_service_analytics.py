"""Service analytics: response and resolution times within opening hours, per staff member, volume, and
unanswered conversations (SQL; run on PostgreSQL too)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from careline.core.actor import Actor
from careline.messaging.models import Conversation, Message
from careline.messaging.outbound.compose import message_send
from careline.messaging.services.conversations import conversation_close
from careline.surveys.business_time import business_seconds, week_spans
from careline.surveys.queries.service import percentile, service_report
from careline.surveys.services.service_rollup import service_rollup_refresh
from careline.surveys.tests.support import PAT_NUMBER, text

CHICAGO = ZoneInfo("America/Chicago")
MONDAY = date(2031, 1, 6)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=CHICAGO)


def test_business_time_counts_only_opening_hours(personas):
    spans = week_spans(list(personas.location_a.opening_hours.all()))  # Monday to Friday 08:00-17:00

    def took(a: datetime, b: datetime) -> float:
        return business_seconds(b, zone=CHICAGO, spans=spans) - business_seconds(a, zone=CHICAGO, spans=spans)

    assert took(local(MONDAY, 9), local(MONDAY, 9, 30)) == 30 * 60
    assert took(local(MONDAY, 16, 55), local(MONDAY + timedelta(days=1), 8, 5)) == 10 * 60  # overnight
    assert (
        took(local(MONDAY + timedelta(days=4), 16), local(MONDAY + timedelta(days=7), 9)) == 2 * 3600
    )  # weekend
    assert took(local(MONDAY, 20), local(MONDAY, 23)) == 0  # closed
    assert week_spans([]) == [(0, 7 * 24 * 3600)]


def test_percentile_interpolates_like_postgresql():
    assert percentile([], 0.5) is None
    assert percentile([10, 20, 30, 40], 0.5) == 25
    assert percentile([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 0.9) == pytest.approx(91)


def _reply(conversation: Conversation, user: Any, body: str = "We can help.") -> Message:
    return message_send(body=body, patient=conversation.patient, to_address=conversation.contact,
                        channel=conversation.channel, author=user)  # fmt: skip


@pytest.mark.django_db(transaction=False)
def test_first_response_resolution_staff_volume_and_unanswered(personas, time_machine):
    time_machine.move_to(local(MONDAY, 9), tick=False)
    first = text("Is my form ready?")
    conversation = Conversation.objects.get(pk=first.conversation_id)
    time_machine.move_to(local(MONDAY, 9, 5), tick=False)
    text("Also, parking?")  # the same turn: the response is timed from the first text
    time_machine.move_to(local(MONDAY, 9, 20), tick=False)
    _reply(conversation, personas.front_a)
    time_machine.move_to(local(MONDAY, 16, 50), tick=False)
    text("Thanks! One more question")
    time_machine.move_to(local(MONDAY + timedelta(days=1), 8, 30), tick=False)  # 40 open minutes later
    _reply(conversation, personas.clinician_a)
    time_machine.move_to(local(MONDAY + timedelta(days=1), 9), tick=False)
    conversation_close(conversation=conversation, actor=Actor.staff(personas.front_a))
    # Another patient's text nobody answers.
    time_machine.move_to(local(MONDAY + timedelta(days=1), 10), tick=False)
    text("Hello?", number="+13125550199")
    Conversation.objects.filter(contact="+13125550199").update(location=personas.location_a)
    time_machine.move_to(local(MONDAY + timedelta(days=2), 12), tick=False)
    service_rollup_refresh()

    report = service_report(location=personas.location_a, start=MONDAY, end=MONDAY + timedelta(days=2),
                            unanswered_hours=24)  # fmt: skip
    assert report.first_response.count == 2
    assert report.first_response.median == pytest.approx(30 * 60)  # (20 + 40) / 2 minutes
    assert report.first_response.p90 == pytest.approx(38 * 60)
    assert report.resolution.count == 1
    # From 09:00 Monday to 09:00 Tuesday: 8 open hours on Monday, 1 on Tuesday.
    assert report.resolution.median == pytest.approx(9 * 3600)
    assert {s["name"]: s["conversations"] for s in report.per_staff} == {
        "Frankie Front": 1,
        "Casey Clinician": 1,
    }
    assert report.by_hour[9] == 2 and report.by_hour[16] == 1 and report.by_hour[10] == 1
    assert report.by_weekday[0] == 3 and report.by_weekday[1] == 1
    assert report.unanswered_count == 1
    assert report.unanswered[0]["pk"] == Conversation.objects.get(contact="+13125550199").pk
    assert conversation.contact == PAT_NUMBER


def test_an_empty_range_reports_nothing(personas):
    report = service_report(location=personas.location_b, start=MONDAY, end=MONDAY)
    assert report.first_response.count == 0 and report.first_response.median is None
    assert report.inbound_total == 0 and report.unanswered_count == 0
    assert report.first_response.median_text == "—"
