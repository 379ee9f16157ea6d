"""The staff workspace bench at tiny sizes: the seed makes what it plans, every page is measured, the report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.models import Count, Max
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bench import workspace
from bench.workspace_pages import BASELINE, PAGES, URLCONF, measure_pages
from bench.workspace_seed import Sizes, seed_workspace
from bench.workspace_seed_inbox import HEAVY_MESSAGES, HEAVY_THREADS, plan_threads
from careline.messaging.models import Conversation, Message
from careline.messaging.queries.inbox import conversations_visible_to
from careline.scheduling.models import Appointment
from careline.testing.personas import sign_in

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # a Wednesday afternoon
TINY = Sizes(
    patients=120,
    conversations=40,
    messages=1500,
    clinicians_per_location=2,
    visits_per_clinician_day=6,
    weeks_around=1,
)


def test_plans_hold_exactly_the_messages_asked_for_and_the_long_threads():
    plans = plan_threads(TINY, NOW, seed=3)

    assert len(plans) == TINY.conversations
    assert sum(len(plan.times) for plan in plans) == TINY.messages
    assert [len(plan.times) for plan in plans[:HEAVY_THREADS]] == [HEAVY_MESSAGES] * HEAVY_THREADS
    assert all(plan.times == sorted(plan.times) and plan.times[-1] <= NOW for plan in plans)
    assert len({plan.contact for plan in plans}) == len(plans)  # one conversation per number


@pytest.mark.django_db
def test_seed_keeps_past_times_and_matches_conversations_to_their_messages():
    seeded = seed_workspace(TINY, seed=3, now=NOW)

    assert Message.objects.count() == TINY.messages
    untouched = (
        Message.objects.values_list("media", "urgent", "held_for_quiet_hours", "subject_key")
        .order_by()
        .distinct()
    )
    assert list(untouched) == [([], False, False, "")]  # fields no row gives take the model's defaults
    assert Message.objects.filter(created_at__lt=NOW - timedelta(days=300)).exists()
    assert Conversation._meta.get_field("created_at").auto_now_add  # restored after the seed
    last = dict(
        Message.objects.values("conversation")
        .annotate(at=Max("created_at"))
        .values_list("conversation", "at")
    )
    assert all(c.last_message_at == last[c.pk] for c in Conversation.objects.all())
    counts = dict(
        Message.objects.filter(conversation__in=seeded.heavy_conversation_ids)
        .values("conversation")
        .annotate(n=Count("id"))
        .values_list("conversation", "n")
    )
    assert set(counts.values()) == {HEAVY_MESSAGES}
    visible = conversations_visible_to(seeded.front_desk).filter(pk__in=seeded.heavy_conversation_ids)
    assert visible.count() == HEAVY_THREADS
    weeks, clinicians = 2 * TINY.weeks_around + 1, 2 * TINY.clinicians_per_location
    assert Appointment.objects.count() == weeks * 5 * clinicians * TINY.visits_per_clinician_day
    assert seeded.seconds["total"] > 0 and seeded.phones_typed and seeded.phone_fragments


@pytest.mark.django_db
def test_seed_fills_the_needs_attention_facts_as_the_inbound_path_would():
    seed_workspace(TINY, seed=3, now=NOW)

    for conversation in Conversation.objects.all():
        patient_texts = conversation.messages.filter(direction=Message.Direction.INBOUND).order_by(
            "created_at"
        )
        last = patient_texts.last()
        assert conversation.last_patient_message_at == (last.created_at if last else None)
        assert conversation.last_patient_preview == (last.body if last else "")
        assert conversation.updated_at == conversation.last_message_at  # not the moment of the seed
    assert Conversation.objects.filter(last_patient_message_at__isnull=True).count() < TINY.conversations
    assert Conversation.objects.filter(flagged=True).count() < TINY.conversations / 2


@pytest.mark.django_db
def test_every_page_is_measured_for_both_users_and_missing_ones_are_named():
    seeded = seed_workspace(TINY, seed=3, now=NOW)

    rows = measure_pages(seeded, runs=2, requests=1, warmup=1)

    assert len(rows) == 2 * len(PAGES)
    measured = [row for row in rows if row["available"]]
    assert {row["page"] for row in measured} == {page.name for page in PAGES}  # every page on this code
    assert all(row["n"] == 2 and row["queries"] > 0 and row["median_ms"] > 0 for row in measured)
    assert all(len(row["run_medians_ms"]) == 2 for row in measured)


@pytest.mark.django_db
def test_conversation_and_calendar_queries_do_not_grow_with_what_they_show():
    seeded = seed_workspace(TINY, seed=3, now=NOW)
    short = (
        Conversation.objects.filter(location=seeded.locations[0])
        .annotate(n=Count("messages"))
        .order_by("n", "pk")
        .first()
    )
    assert short.n < HEAVY_MESSAGES / 10
    empty_week = seeded.week_day + timedelta(weeks=TINY.weeks_around + 2)

    def queries(url):
        client = sign_in(Client(), seeded.front_desk)
        client.get(url)  # the session's first request differs
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    with override_settings(ROOT_URLCONF=URLCONF):
        long_thread = reverse("messaging:conversation", args=[seeded.heavy_conversation_ids[0]])
        assert queries(long_thread) == queries(reverse("messaging:conversation", args=[short.pk]))
        week = reverse("scheduling:calendar") + f"?view=week&location={seeded.locations[0].pk}&date="
        assert queries(week + seeded.week_day.isoformat()) == queries(week + empty_week.isoformat())


def _result(database, p95):
    rows = [
        {
            "user": "administrator",
            "page": BASELINE,
            "available": True,
            "median_ms": 5.0,
            "p95_ms": 6.0,
            "cpu_median_ms": 4.0,
            "queries": 6,
        },
        {
            "user": "administrator",
            "page": "Inbox list",
            "available": True,
            "median_ms": 50.0,
            "p95_ms": p95,
            "cpu_median_ms": 30.0,
            "queries": 12,
        },
        {"user": "administrator", "page": "Inbox list, page 2", "available": False},
    ]
    profile = {
        "page": "Inbox list",
        "user": "administrator",
        "requests": 2,
        "by_own": [],
        "by_total_careline": [],
    }
    sizes = Sizes().__dict__
    return {
        "database": database,
        "sizes": sizes,
        "rows": rows,
        "seed_seconds": {"messages": 60.0, "total": 90.0},
        "profile": profile,
    }


def test_report_gives_the_ratio_to_the_baseline_and_names_what_misses_the_target():
    text = workspace.report([_result("SQLite 3.40.1", 80.0), _result("PostgreSQL 15.2", 140.0)])

    assert "| SQLite 3.40.1 | administrator | Inbox list | 50.0 ms | 80.0 ms | 30.0 ms | 12 | 10.0× |" in text
    assert "| Inbox list, page 2 | – | – | – | – | not on this code |" in text
    assert "seeded in 90 s (messages 60 s)" in text
    assert "MISSED for 1 of 2 page and user pairs" in text
    assert "PostgreSQL 15.2: Inbox list 140 ms." in text
    assert "SQLite 3.40.1: Inbox list" not in text
