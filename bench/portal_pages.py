"""Patient portal pages on one database, run in a process of its own.

Seeds the staff workspace's clinic (bench/workspace_seed.py: patients, two years of texting, a busy
calendar), then the portal's own rows (bench/portal_seed.py), signs in the portal account of a patient with
a long history, and times every portal page a signed-in patient can GET, walked from the URL configuration
so a page added later is measured without touching this file (an argument the table below cannot fill is
reported, not skipped silently). Timed in-process through Django's test client and the whole middleware
stack, beside a trivial portal page through the same stack (the baseline). The slowest page is profiled.
Usage (normally through `python -m bench --suite portal`): python -m bench.portal_pages --quick --out r.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careline.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from bench.portal_seed import PortalBench, seed_portal  # noqa: E402
from bench.records_seed import bench_document_key, bench_released_result  # noqa: E402
from bench.workspace_pages import _slowest_sql, p95  # noqa: E402
from bench.workspace_seed import Sizes, seed_workspace  # noqa: E402
from careline.testing.portal import portal_sign_in  # noqa: E402
from careline.testing.urlsweep import Route, routes  # noqa: E402

URLCONF = "bench.portal_urls"
BASELINE = "Baseline: trivial portal page"
# Portal routes a signed-in patient does not GET as a page: forms that only post, or signed-out pages.
NOT_PAGES = {
    "portal:signin",
    "portal:signout",
    "portal:switch_record",
    "portal:language",
    # Getting in: signed-out pages (an invitation's link, one-time codes, password reset).
    "portal:invite",
    "portal:invite_setup",
    "portal:code",
    "portal:code_enter",
    "portal:reset",
    "portal:reset_password",
    # The Profile's and caregivers' forms post to these; the invitation link and page are for signed-out
    # caregivers; the manifest and service worker are no page.
    "portal:profile_contact",
    "portal:profile_password",
    "portal:profile_language",
    "portal:profile_preferences",
    "portal:profile_consent",
    "portal:signout_everywhere",
    "portal:caregiver_grant",
    "portal:caregiver_revoke",
    "portal:caregiver_join",
    "portal:caregiver_join_page",
    "portal:manifest",
    "portal:service_worker",
}
ROUTE_ARGUMENTS: dict[tuple[str, str], Callable[[PortalBench], Any]] = {
    ("portal:message_thread", "pk"): lambda bench: bench.portal_conversation_id,
    ("portal:message_file", "pk"): lambda bench: bench.portal_conversation_id,
    ("portal:message_file", "name"): lambda bench: bench.portal_file,
    **{
        (key, "pk"): lambda bench: bench.visit_id
        for key in (
            "portal:appointment",
            "portal:appointment_confirm",
            "portal:appointment_cancel",
            "portal:appointment_reschedule",
            "portal:appointment_ics",
        )
    },
    ("portal:visit_request_withdraw", "pk"): lambda bench: bench.visit_request_id,
    ("portal:result", "pk"): lambda bench: bench_released_result(bench.patient.pk),
    ("portal:document", "key"): lambda bench: bench_document_key(bench.patient.pk),
    **{
        (key, "pk"): lambda bench: bench_statement_id(bench.patient.pk)
        for key in ("portal:statement", "portal:statement_file", "portal:statement_pay")
    },
}


def bench_statement_id(patient_id: int) -> int:
    """A statement of patient PATIENT_ID's (one is issued, by mail and for nothing due, the first time)."""
    from django.utils import timezone

    from careline.billing.models import Statement

    found = Statement.objects.filter(patient_id=patient_id, state="issued").first()
    if found is None:
        today = timezone.localdate()
        found = Statement.objects.create(
            patient_id=patient_id, statement_date=today, due_date=today, amount_due_cents=0,
            channel="mail", issued_at=timezone.now(),
        )  # fmt: skip
    return found.pk


def portal_pages() -> tuple[list[tuple[str, str]], list[str]]:
    """(page name, URL pattern key) of every portal route to time, and the routes whose arguments are unknown."""
    pages, unknown = [], []
    for route in routes():
        if not route.key.startswith("portal:") or route.key in NOT_PAGES:
            continue
        if any((route.key, name) not in ROUTE_ARGUMENTS for name in route.kwargs):
            unknown.append(route.key)
            continue
        pages.append((route.key, route.key))
    return pages, unknown


def _url(bench: PortalBench, route: Route) -> str:
    return reverse(
        route.key, kwargs={name: ROUTE_ARGUMENTS[(route.key, name)](bench) for name in route.kwargs}
    )


def _get(client: Client, url: str) -> tuple[float, float, int]:
    started, cpu = time.perf_counter(), time.process_time()
    response = client.get(url)
    return (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000, response.status_code


def measure(
    bench: PortalBench, *, runs: int, requests: int, warmup: int = 3
) -> tuple[list[dict[str, Any]], list[str]]:
    """Median, p95, CPU and SQL queries of each portal page for the bench patient; routes left unmeasured."""
    by_key = {route.key: route for route in routes()}
    keys, unknown = portal_pages()
    with override_settings(ROOT_URLCONF=URLCONF):
        todo = [(BASELINE, reverse("bench_portal_signed_in"))]
        client = portal_sign_in(Client(), bench.account)
        for name, key in keys:
            url = _url(bench, by_key[key])
            if _get(client, url)[2] == 405:  # a POST-only action
                continue
            todo.append((name, url))
        sql = {}
        for name, url in todo:
            for _ in range(warmup):
                _, _, status = _get(client, url)
                if status != 200:
                    raise SystemExit(f"bench: {url} answered {status}; the workload is wrong")
            with CaptureQueriesContext(connection) as captured:
                _get(client, url)
            slowest, plan = _slowest_sql(captured.captured_queries)
            sql[name] = {"queries": len(captured), "slow_sql": slowest, "plan": plan}
        walls: dict[str, list[float]] = {name: [] for name, _ in todo}
        cpus: dict[str, list[float]] = {name: [] for name, _ in todo}
        for _run in range(runs):
            for _n in range(requests):
                for name, url in todo:
                    wall, cpu, _ = _get(client, url)
                    walls[name].append(wall)
                    cpus[name].append(cpu)
    rows = [
        {
            "page": name,
            "url": url,
            "median_ms": statistics.median(walls[name]),
            "p95_ms": p95(walls[name]),
            "cpu_median_ms": statistics.median(cpus[name]),
            **sql[name],
        }
        for name, url in todo
    ]
    return rows, unknown


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="20,000 patients and 100,000 messages")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=20, help="per page in each run")
    parser.add_argument("--results", type=int, help="lab results to seed (default 500,000; quick 50,000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    sizes = Sizes.quick() if args.quick else Sizes()
    results = args.results or (50_000 if args.quick else 500_000)
    call_command("migrate", verbosity=0, interactive=False)
    workspace = seed_workspace(sizes, args.seed)
    bench = seed_portal(workspace, results=results, seed=args.seed)
    rows, unknown = measure(bench, runs=args.runs, requests=args.requests)
    with connection.cursor() as cursor:
        cursor.execute("SELECT sqlite_version()" if connection.vendor == "sqlite" else "SHOW server_version")
        version = cursor.fetchone()[0]
    args.out.write_text(
        json.dumps(
            {
                "database": f"{'SQLite' if connection.vendor == 'sqlite' else 'PostgreSQL'} {version.split()[0]}",
                "sizes": {**sizes.__dict__, "results": bench.rows["lab results"]},
                "seed_seconds": {**workspace.seconds, **bench.seconds},
                "rows": rows,
                "unmeasured": unknown,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
