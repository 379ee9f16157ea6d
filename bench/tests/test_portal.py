"""The portal bench at tiny sizes: every portal page a patient GETs is measured, or named as unmeasured."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bench import portal
from bench.portal_pages import BASELINE, measure, portal_pages
from bench.portal_seed import seed_portal
from bench.workspace_seed import Sizes, seed_workspace
from careline.portal.models import PortalAccount

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
TINY = Sizes(
    patients=120,
    conversations=40,
    messages=1500,
    clinicians_per_location=2,
    visits_per_clinician_day=6,
    weeks_around=1,
)


@pytest.mark.django_db
def test_every_portal_page_is_measured_and_the_report_names_the_target():
    bench = seed_portal(seed_workspace(TINY, seed=3, now=NOW), results=200, seed=3)
    assert PortalAccount.objects.count() == len(bench.patient_ids) >= 12
    assert bench.account.patient == bench.patient

    rows, unknown = measure(bench, runs=1, requests=1, warmup=1)

    _pages, unmeasured = portal_pages()
    assert unknown == unmeasured == [], "give bench/portal_pages.py ROUTE_ARGUMENTS for these routes"
    assert rows[0]["page"] == BASELINE
    assert {row["page"] for row in rows} >= {"portal:home"}
    assert all(row["queries"] > 0 and row["median_ms"] > 0 for row in rows)
    text = portal.report(
        [
            {
                "database": "SQLite 3",
                "sizes": {**TINY.__dict__, "results": bench.rows["lab results"]},
                "seed_seconds": bench.seconds,
                "rows": rows,
                "unmeasured": unknown,
            }
        ]
    )
    assert "| SQLite 3 | portal:home |" in text and "Target p95 < 100 ms" in text
