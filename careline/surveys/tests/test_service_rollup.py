"""The Service report's rolled-up rows give the figures the direct computation from the messages gives (the
report's former code, careline/surveys/tests/service_direct.py), on a varied inbox: several zones (one with a
half-hour offset, one in the southern hemisphere), opening hours past midnight and none at all, the spring
DST changes, conversations spanning days, turns nobody answered yet, automatic texts and closings. Kept up
to date incrementally, idempotent, and counted again when opening hours change. Run on PostgreSQL too."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from careline.locations.models import Location, OpeningHours
from careline.messaging.models import Conversation, ConversationEvent, Message
from careline.messaging.services.channels import simulator_channel
from careline.surveys.models import ServiceEpisode, ServiceRollupState, ServiceStaffDay, ServiceVolume
from careline.surveys.queries.service import ServiceReport, service_report
from careline.surveys.services.service_rollup import service_rollup_rebuild, service_rollup_refresh
from careline.surveys.tests.service_direct import service_report_direct
from careline.testing.personas import make_location

START = date(2031, 2, 20)  # the data run from here ...
END = date(2031, 4, 20)  # ... to about here: the spring DST changes of Chicago, London and Sydney inside
NOW = datetime(2031, 5, 1, 12, tzinfo=UTC)


@dataclass
class Inbox:
    locations: list[Location]
    staff: list[Any]


def _locations(personas: Any) -> list[Location]:
    london = make_location("Night Clinic", "Europe/London", "+442071234567")
    OpeningHours.objects.filter(location=london).delete()
    for weekday in range(7):  # 20:00 to 04:00 every night, past midnight
        OpeningHours.objects.create(location=london, weekday=weekday, opens="20:00", closes="04:00")
    kolkata = make_location("Always Clinic", "Asia/Kolkata", "+912212345678")
    OpeningHours.objects.filter(location=kolkata).delete()  # no opening hours: every second counts
    sydney = make_location("Harbour Clinic", "Australia/Sydney", "+61212345678")
    OpeningHours.objects.create(location=sydney, weekday=5, opens="09:00", closes="12:30")  # and Saturdays
    return [personas.location_a, london, kolkata, sydney]


def _conversation(location: Location, index: int) -> Conversation:
    return Conversation.objects.create(
        channel=simulator_channel(), contact=f"+1312555{location.pk:02d}{index:02d}", location=location
    )


def _write(time_machine: Any, inbox: Inbox, seed: int, conversations: int, *, since: datetime) -> None:
    """CONVERSATIONS conversations per location of random texts, replies and closings after SINCE."""
    rng = random.Random(seed)
    for location in inbox.locations:
        for index in range(conversations):
            conversation = _conversation(location, seed * 100 + index)
            at = since + timedelta(minutes=rng.randrange(0, 60 * 24 * 20))
            for _step in range(rng.randrange(1, 14)):
                at += timedelta(minutes=rng.choice([1, 7, 45, 180, 600, 1500, 3000]) + rng.randrange(0, 60))
                time_machine.move_to(at, tick=False)
                roll = rng.random()
                if roll < 0.5:
                    Message.objects.create(conversation=conversation, channel=conversation.channel, direction="in",
                                           kind="patient", to_address=location.phone, body="Hello", state="received")  # fmt: skip
                    # What inbound processing keeps on the conversation (the unanswered list reads it).
                    Conversation.objects.filter(pk=conversation.pk).update(last_inbound_at=at)
                elif roll < 0.8:
                    Message.objects.create(conversation=conversation, channel=conversation.channel, direction="out",
                                           kind="staff", to_address=conversation.contact, body="We can help.",
                                           state="delivered", author=rng.choice(inbox.staff))  # fmt: skip
                elif roll < 0.88:  # an automatic text: neither a response nor a patient's text
                    Message.objects.create(conversation=conversation, channel=conversation.channel, direction="out",
                                           kind="automated", to_address=conversation.contact, body="Reminder",
                                           state="delivered")  # fmt: skip
                else:
                    ConversationEvent.objects.create(
                        conversation=conversation, kind=ConversationEvent.Kind.CLOSED
                    )


def _figures(report: ServiceReport) -> dict[str, Any]:
    return {
        "first_response": (
            report.first_response.count,
            report.first_response.median,
            report.first_response.p90,
        ),
        "resolution": (report.resolution.count, report.resolution.median, report.resolution.p90),
        "per_staff": report.per_staff,
        "by_hour": report.by_hour,
        "by_weekday": report.by_weekday,
        "unanswered": (report.unanswered_count, report.unanswered),
    }


def _assert_same(location: Location, start: date, end: date, *, timings: bool = True) -> dict[str, Any]:
    rolled = _figures(service_report(location=location, start=start, end=end, unanswered_hours=24, now=NOW))
    direct = _figures(
        service_report_direct(location=location, start=start, end=end, unanswered_hours=24, now=NOW)
    )
    for key in ("per_staff", "by_hour", "by_weekday", "unanswered"):
        assert rolled[key] == direct[key], (location.name, start, end, key)
    if timings:
        for key in ("first_response", "resolution"):
            count, median, p90 = rolled[key]
            assert count == direct[key][0], (location.name, key)
            assert median == pytest.approx(direct[key][1], abs=1e-6), (location.name, key)
            assert p90 == pytest.approx(direct[key][2], abs=1e-6), (location.name, key)
    return rolled


def _episodes() -> list[tuple[Any, ...]]:
    rows = ServiceEpisode.objects.values_list(
        "conversation_id", "kind", "asked", "answered", "business_seconds"
    )
    return sorted((*row[:4], round(row[4], 3)) for row in rows)


@pytest.fixture
def inbox(personas: Any) -> Inbox:
    return Inbox(
        locations=_locations(personas), staff=[personas.front_a, personas.clinician_a, personas.admin]
    )


def test_the_rolled_up_figures_equal_the_direct_computation(inbox, time_machine):
    _write(time_machine, inbox, seed=1, conversations=12, since=datetime.combine(START, time(6), tzinfo=UTC))
    time_machine.move_to(NOW, tick=False)
    service_rollup_refresh(now=NOW)
    assert (
        ServiceEpisode.objects.exists()
        and ServiceStaffDay.objects.exists()
        and ServiceVolume.objects.exists()
    )
    for location in inbox.locations:
        figures = _assert_same(location, START - timedelta(days=7), END + timedelta(days=30))
        assert (
            figures["first_response"][0] > 5 and figures["resolution"][0] > 0 and figures["unanswered"][0] > 0
        )
        # Any range of days: the replies, texts by hour and weekday are the same (the timings differ only for a
        # turn that began before the range: the rolled-up rows time it from its first text, so it is left out).
        _assert_same(location, date(2031, 3, 8), date(2031, 3, 10), timings=False)  # Chicago's DST change
        _assert_same(location, date(2031, 3, 30), date(2031, 4, 6), timings=False)  # London's and Sydney's


def test_the_sweep_rolls_up_only_what_changed_and_twice_changes_nothing(inbox, time_machine):
    _write(time_machine, inbox, seed=2, conversations=5, since=datetime.combine(START, time(6), tzinfo=UTC))
    service_rollup_refresh(now=NOW)  # the first run derives everything
    state = ServiceRollupState.objects.get()
    assert state.message_id == Message.objects.latest("pk").pk
    # More texts in the same conversations and new ones; the sweep takes them in small steps.
    _write(time_machine, inbox, seed=3, conversations=4, since=datetime.combine(END, time(6), tzinfo=UTC))
    for conversation in Conversation.objects.all()[:6]:
        time_machine.move_to(NOW - timedelta(days=1), tick=False)
        Message.objects.create(conversation=conversation, channel=conversation.channel, direction="in",
                               kind="patient", to_address="+13125550100", body="Still there?", state="received")  # fmt: skip
    time_machine.move_to(NOW, tick=False)
    runs = 0
    while service_rollup_refresh(limit=25, now=NOW)["more"]:
        runs += 1
    assert runs > 1
    incremental = _episodes()
    staff_days = sorted(ServiceStaffDay.objects.values_list("conversation_id", "author_id", "day", "replies"))
    volume = sorted(ServiceVolume.objects.values_list("location_id", "day", "hour", "texts"))
    service_rollup_refresh(now=NOW)
    service_rollup_refresh(now=NOW)
    service_rollup_rebuild(now=NOW)
    assert incremental == _episodes()  # the rebuild (in SQL on PostgreSQL) derives the same rows
    assert staff_days == sorted(
        ServiceStaffDay.objects.values_list("conversation_id", "author_id", "day", "replies")
    )
    assert volume == sorted(ServiceVolume.objects.values_list("location_id", "day", "hour", "texts"))
    for location in inbox.locations:
        _assert_same(location, START - timedelta(days=7), END + timedelta(days=60))


def test_a_text_committed_after_the_watermark_moved_is_still_rolled_up(inbox, time_machine):
    _write(time_machine, inbox, seed=4, conversations=2, since=datetime.combine(START, time(6), tzinfo=UTC))
    time_machine.move_to(NOW, tick=False)
    service_rollup_refresh(now=NOW)
    conversation = Conversation.objects.filter(location=inbox.locations[0]).first()
    late = Message.objects.create(conversation=conversation, channel=conversation.channel, direction="in",
                                  kind="patient", to_address="+13125550100", body="Late", state="received")  # fmt: skip
    # Its id is below the watermark (as if its transaction had taken the id earlier and committed later).
    ServiceRollupState.objects.update(message_id=late.pk + 10)
    service_rollup_refresh(now=NOW + timedelta(minutes=1))
    _assert_same(inbox.locations[0], START, NOW.date())


def test_changed_opening_hours_are_counted_again(inbox, time_machine):
    _write(time_machine, inbox, seed=5, conversations=6, since=datetime.combine(START, time(6), tzinfo=UTC))
    time_machine.move_to(NOW, tick=False)
    service_rollup_refresh(now=NOW)
    chicago = inbox.locations[0]
    OpeningHours.objects.filter(location=chicago, weekday=0).update(opens="10:00", closes="12:00")
    # Before the sweep has counted them again, the report counts the changed location's lengths itself.
    _assert_same(chicago, START - timedelta(days=7), END + timedelta(days=30))
    assert service_rollup_refresh(now=NOW)["lengths_recounted"] > 0
    _assert_same(chicago, START - timedelta(days=7), END + timedelta(days=30))
    assert service_rollup_refresh(now=NOW)["lengths_recounted"] == 0


def test_the_report_of_a_location_with_nothing_rolled_up_is_empty(personas):
    report = service_report(location=personas.location_b, start=START, end=END, now=NOW)
    assert report.first_response.count == 0 and report.inbound_total == 0 and report.per_staff == []


def test_the_sweep_is_on_the_beat_schedule_and_the_command_rolls_up(inbox, time_machine):
    from io import StringIO

    from django.core.management import call_command

    from careline.celery import _beat_schedule

    assert "surveys.service_rollup" in {entry["task"] for entry in _beat_schedule().values()}
    _write(time_machine, inbox, seed=6, conversations=2, since=datetime.combine(START, time(6), tzinfo=UTC))
    time_machine.move_to(NOW, tick=False)
    out = StringIO()
    call_command("service_rollup", stdout=out)  # the first run derives everything
    assert "rebuilt: 1" in out.getvalue() and ServiceEpisode.objects.exists()
    before = _episodes()
    call_command("service_rollup", "--rebuild", stdout=StringIO())
    assert _episodes() == before
    _assert_same(inbox.locations[0], START - timedelta(days=7), END + timedelta(days=30))
