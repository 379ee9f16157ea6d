"""The care bench at tiny sizes: each step runs the real path and the report names every figure."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest

from bench import care
from bench.care_run import bench_plan, bench_replies, bench_sweep, bench_worklist, seed, seed_worklist
from careline.care.models import AlertState, CareAlert, CheckIn, CheckInState, Reading


@pytest.mark.django_db
def test_the_care_bench_sends_reads_and_lists_on_a_tiny_clinic(settings: Any) -> None:
    settings.CARELINE_TEXTING_WINDOW = (time(0, 0), time.max)
    world = seed(30, 10)
    plan = bench_plan(world)
    assert plan["planned"] >= 30 * 7 and plan["warm_planned"] == 0
    sweep = bench_sweep(world)
    assert sweep["sent"] == 30 and sweep["prompts"] == 30 and sweep["plain_count"] >= 1
    replies = bench_replies(world)
    assert replies["replies"] == 30 and Reading.objects.count() == 30
    assert CheckIn.objects.filter(state=CheckInState.ANSWERED).count() == 30
    assert CareAlert.objects.exists()  # the out-of-range replies opened alerts
    open_alerts = seed_worklist(world, alerts=25)
    assert (
        open_alerts == CareAlert.objects.filter(state__in=[AlertState.OPEN, AlertState.ACKNOWLEDGED]).count()
    )
    assert open_alerts == 25
    worklist = bench_worklist(world, runs=1, requests=2)
    assert worklist["alerts_shown"] == 25 and worklist["queries"] > 0
    assert worklist["worklist"]["median_ms"] > 0 and worklist["profile"]
    # A row's trend is its own request (loaded when the row is opened), and draws the chart.
    assert worklist["trend"]["median_ms"] > 0 and worklist["trend_draws_chart"] and worklist["trend_profile"]
    text = care.report(
        [
            {
                "database": "SQLite 3",
                "patients": 30,
                "plan": plan,
                "sweep": sweep,
                "replies": replies,
                "open_alerts": open_alerts,
                "worklist": worklist,
                "load_average": (1.0, 1.0, 1.0),
            }
        ]
    )
    assert "### Care after discharge" in text and "| SQLite 3 | Worklist `/care/`, 25 open alerts" in text
    assert "| SQLite 3 | A row's trend (HTMX, when opened;" in text
