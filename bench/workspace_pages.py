"""Staff workspace pages (inbox, conversation, calendar week) on one database, run in a process of its own.

Seeds a clinic (bench/workspace_seed.py), signs in a front-desk user of one location and an administrator
who sees both, and times each page in-process through Django's test client, so the whole middleware stack
(sessions, sign-in, two-factor, CSP, audit) runs as in production; only the network and the WSGI server are
left out. Pages are requested in turn (one request of each page, then the next round) so a busy moment of
the machine spreads over all of them. Beside them, a trivial signed-in view through the same stack is the
baseline: the framework's own cost. The slowest page is then profiled with cProfile.
Usage (normally through `python -m bench`): python -m bench.workspace_pages --quick --out result.json
"""

from __future__ import annotations

import argparse
import cProfile
import html
import json
import os
import pstats
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careline.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from bench.workspace_seed import Sizes, Workspace, seed_workspace  # noqa: E402
from careline.accounts.models import User  # noqa: E402
from careline.messaging.forms.inbox import InboxFilterForm  # noqa: E402
from careline.messaging.queries.inbox_list import SHOW_CHOICES, InboxFilters, inbox_page  # noqa: E402
from careline.messaging.views import inbox as inbox_views  # noqa: E402
from careline.messaging.views.inbox import DETAIL_PANE  # noqa: E402
from careline.testing.personas import sign_in  # noqa: E402

URLCONF = "bench.workspace_urls"
BASELINE = "Baseline: trivial signed-in view"
HTMX = {"HTTP_HX_REQUEST": "true"}
ROOT = str(Path(__file__).resolve().parent.parent) + "/"


@dataclass(frozen=True)
class Page:
    """A page to time: the URLs to rotate through for a user (worked out with that user's signed-in client,
    as a browser gets them: from the page before), request headers, and whether this code has it."""

    name: str
    urls: Callable[[Workspace, User, Client], list[str]]
    headers: dict[str, str] = field(default_factory=dict)
    available: Callable[[], bool] = lambda: True
    status: int = 200  # 204: a poll that finds nothing changed (its usual answer)


def _inbox(**params: str) -> str:
    return reverse("messaging:inbox") + (f"?{urlencode(params)}" if params else "")


def _inbox_field(name: str) -> bool:
    return name in InboxFilterForm.base_fields


def _show_codes() -> set[str]:
    return {code for code, _label in SHOW_CHOICES}


def _fetch(client: Client, url: str, headers: dict[str, str] | None = None) -> str:
    response = client.get(url, **(headers or {}))  # type: ignore[arg-type]
    if response.status_code != 200:
        raise SystemExit(f"bench: {url} answered {response.status_code}; the workload is wrong")
    return response.content.decode()


def _attribute_url(page: str, pattern: str, what: str) -> str:
    """The first URL in an attribute of PAGE matching PATTERN (a regex with one group), unescaped."""
    found = re.search(pattern, page)
    if found is None:
        raise SystemExit(f"bench: {what} not found on the page; the workload is wrong")
    return html.unescape(found.group(1))


def _page_two(workspace: Workspace, user: User, client: Client) -> list[str]:
    """The list's "Show more" address: the keyset cursor `after=` of the first page's last row (what the page's
    link carries; a tiny seed with one page gets the same request, answered with no rows)."""
    first = inbox_page(user, InboxFilters())
    return [_inbox(after=first.last_cursor)]


def _thread_poll(workspace: Workspace, user: User, client: Client) -> list[str]:
    """The live thread's poll address as each heavy conversation's page writes it (cursor and version)."""
    urls = []
    for pk in workspace.heavy_conversation_ids:
        page = _fetch(client, reverse("messaging:conversation", args=[pk]))
        thread = re.escape(reverse("messaging:thread", args=[pk]))
        urls.append(_attribute_url(page, rf'hx-get="({thread}\?[^"]*after=[^"]*)"', "the thread's poll"))
    return urls


def _week(workspace: Workspace, **params: Any) -> str:
    query = {"view": "week", "date": workspace.week_day.isoformat(), **params}
    return reverse("scheduling:calendar") + "?" + urlencode(query)


def _week_feed(workspace: Workspace, **params: Any) -> str:
    """The grid's JSON feed for the week (Monday to Monday) of the measured day, as the week view asks it."""
    monday = workspace.week_day - timedelta(days=workspace.week_day.weekday())
    query = {"start": monday.isoformat(), "end": (monday + timedelta(days=7)).isoformat(), "view": "week"}
    return reverse("scheduling:calendar_events") + "?" + urlencode({**query, **params})


def _conversations(workspace: Workspace) -> list[str]:
    return [reverse("messaging:conversation", args=[pk]) for pk in workspace.heavy_conversation_ids]


# The pages of the benchmark, as the current code serves them.
PAGES: tuple[Page, ...] = (
    Page(BASELINE, lambda w, u, c: [reverse("bench_signed_in")]),
    Page("Inbox list", lambda w, u, c: [_inbox()]),
    Page("Inbox list, HTMX refresh", lambda w, u, c: [_inbox()], HTMX),
    Page("Inbox list, page 2 (Show more)", _page_two, HTMX, available=lambda: _inbox_field("after")),
    Page(
        "Inbox, needs attention",
        lambda w, u, c: [_inbox(show="unread")],
        available=lambda: "unread" in _show_codes(),
    ),
    Page("Inbox, search phone (full number)", lambda w, u, c: [_inbox(q=p) for p in w.phones_typed]),
    Page("Inbox, search phone (last 4 digits)", lambda w, u, c: [_inbox(q=p) for p in w.phone_fragments]),
    Page("Inbox, search message text", lambda w, u, c: [_inbox(q=word) for word in w.search_words]),
    Page("Conversation, split pane (220-message thread)", lambda w, u, c: _conversations(w)),
    Page(
        "Conversation pane opened from the list (HTMX)",
        lambda w, u, c: _conversations(w),
        {**HTMX, "HTTP_HX_TARGET": DETAIL_PANE},
    ),
    Page(
        "Conversation page's list pane (loaded after it, HTMX)",
        lambda w, u, c: [_inbox()],
        {**HTMX, "HTTP_HX_TARGET": getattr(inbox_views, "LIST_PANE", "")},
        available=lambda: hasattr(inbox_views, "LIST_PANE"),
    ),
    Page("Conversation, live thread poll (no change)", _thread_poll, HTMX, status=204),
    Page("Calendar week page, location", lambda w, u, c: [_week(w, location=w.locations[0].pk)]),
    Page("Calendar week feed, location", lambda w, u, c: [_week_feed(w, location=w.locations[0].pk)]),
    Page("Calendar week feed, one clinician", lambda w, u, c: [_week_feed(w, clinician=w.clinicians[0].pk)]),
)


def p95(values: list[float]) -> float:
    """The 95th percentile (inclusive method), or the one value."""
    return statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]


def _get(client: Client, url: str, headers: dict[str, str], status: int = 200) -> tuple[float, float]:
    """Request URL (expecting STATUS); (wall milliseconds, this process's CPU milliseconds)."""
    started, cpu = time.perf_counter(), time.process_time()
    response = client.get(url, **headers)  # type: ignore[arg-type]
    elapsed, cpu = (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000
    if response.status_code != status:
        raise SystemExit(f"bench: {url} answered {response.status_code}; the workload is wrong")
    return elapsed, cpu


def explain(statement: str) -> str:
    """The database's plan of STATEMENT (a SELECT as it ran): EXPLAIN ANALYZE, or SQLite's query plan."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {statement}")
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {statement}")
        return "\n".join(" ".join(str(part) for part in row) for row in cursor.fetchall())


def _slowest_sql(captured: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
    """The three slowest statements of one request (shortened), and the plan of its slowest SELECT."""
    ranked = sorted(captured, key=lambda q: -float(q["time"]))
    top = [{"ms": float(q["time"]) * 1000, "sql": q["sql"][:400]} for q in ranked[:3]]
    select = next((q["sql"] for q in ranked if q["sql"].lstrip().upper().startswith("SELECT")), "")
    return top, explain(select) if select else ""


def measure_pages(
    workspace: Workspace, *, runs: int, requests: int, warmup: int = 3, pages: tuple[Page, ...] = PAGES
) -> list[dict[str, Any]]:
    """Median, p95 and SQL query count of each page for each user; REQUESTS per page in each of RUNS rounds."""
    rows = []
    users = (("front desk, one location", workspace.front_desk), ("administrator", workspace.admin))
    with override_settings(ROOT_URLCONF=URLCONF):
        for label, user in users:
            client = sign_in(Client(), user)
            todo = [(page, page.urls(workspace, user, client)) for page in pages if page.available()]
            first_url = {page.name: urls[0] for page, urls in todo}
            sql: dict[str, dict[str, Any]] = {}
            for page, urls in todo:
                for n in range(warmup):
                    _get(client, urls[n % len(urls)], page.headers, page.status)
                with CaptureQueriesContext(connection) as captured:
                    _get(client, urls[-1], page.headers, page.status)
                slowest, plan = _slowest_sql(captured.captured_queries)
                sql[page.name] = {"queries": len(captured), "slow_sql": slowest, "plan": plan}
            samples: dict[str, list[list[float]]] = {page.name: [] for page, _ in todo}
            cpu: dict[str, list[float]] = {page.name: [] for page, _ in todo}
            for _run in range(runs):
                timings: dict[str, list[float]] = {page.name: [] for page, _ in todo}
                for n in range(requests):
                    for page, urls in todo:
                        wall, used = _get(client, urls[n % len(urls)], page.headers, page.status)
                        timings[page.name].append(wall)
                        cpu[page.name].append(used)
                for name, values in timings.items():
                    samples[name].append(values)
            for page in pages:
                if not page.available():
                    rows.append({"user": label, "page": page.name, "available": False})
                    continue
                pooled = [value for run in samples[page.name] for value in run]
                rows.append(
                    {
                        "user": label,
                        "page": page.name,
                        "available": True,
                        "n": len(pooled),
                        "median_ms": statistics.median(pooled),
                        "p95_ms": p95(pooled),
                        "cpu_median_ms": statistics.median(cpu[page.name]),
                        "run_medians_ms": [statistics.median(run) for run in samples[page.name]],
                        **sql[page.name],
                        "url": first_url[page.name],
                    }
                )
    return rows


def _where(key: tuple[str, int, str]) -> str:
    filename, line, function = key
    for marker in ("site-packages/", ROOT):
        if marker in filename:
            filename = filename.split(marker, 1)[1]
    return f"{filename}:{line}({function})"


def profile_page(
    workspace: Workspace, row: dict[str, Any], *, requests: int, top: int = 15
) -> dict[str, Any]:
    """cProfile of REQUESTS requests of the page in ROW: the functions with most own and most total time."""
    user = workspace.front_desk if row["user"].startswith("front desk") else workspace.admin
    page = next(p for p in PAGES if p.name == row["page"])
    with override_settings(ROOT_URLCONF=URLCONF):
        client = sign_in(Client(), user)
        urls = page.urls(workspace, user, client)
        _get(client, urls[0], page.headers, page.status)
        profiler = cProfile.Profile()
        profiler.enable()
        for n in range(requests):
            _get(client, urls[n % len(urls)], page.headers, page.status)
        profiler.disable()
    # {(file, line, function): (primitive calls, calls, own seconds, total seconds, callers)}
    stats: dict[Any, Any] = getattr(pstats.Stats(profiler), "stats")  # noqa: B009 - not in typeshed
    entries = [
        {
            "function": _where(key),
            "calls": value[1] / requests,
            "own_ms": value[2] * 1000 / requests,
            "total_ms": value[3] * 1000 / requests,
        }
        for key, value in stats.items()
        if "cProfile" not in key[0] and not key[0].endswith("workspace_pages.py")
    ]
    by_own = sorted(entries, key=lambda e: -e["own_ms"])[:top]
    by_total = sorted(
        (e for e in entries if "/careline/" in e["function"] or e["function"].startswith("careline/")),
        key=lambda e: -e["total_ms"],
    )[:top]
    return {
        "user": row["user"],
        "page": row["page"],
        "requests": requests,
        "by_own": by_own,
        "by_total_careline": by_total,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="20,000 patients and 100,000 messages")
    parser.add_argument("--patients", type=int)
    parser.add_argument("--conversations", type=int)
    parser.add_argument("--messages", type=int)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=20, help="per page and user in each run")
    parser.add_argument("--profile-requests", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    sizes = Sizes.quick() if args.quick else Sizes()
    overrides = {
        name: getattr(args, name) for name in ("patients", "conversations", "messages") if getattr(args, name)
    }
    sizes = Sizes(**{**sizes.__dict__, **overrides})
    call_command("migrate", verbosity=0, interactive=False)
    workspace = seed_workspace(sizes, args.seed)
    rows = measure_pages(workspace, runs=args.runs, requests=args.requests)
    slowest = max((r for r in rows if r["available"] and r["page"] != BASELINE), key=lambda r: r["p95_ms"])
    profile = profile_page(workspace, slowest, requests=args.profile_requests)
    with connection.cursor() as cursor:
        cursor.execute("SELECT sqlite_version()" if connection.vendor == "sqlite" else "SHOW server_version")
        version = cursor.fetchone()[0]
    args.out.write_text(
        json.dumps(
            {
                "database": f"{'SQLite' if connection.vendor == 'sqlite' else 'PostgreSQL'} {version.split()[0]}",
                "sizes": sizes.__dict__,
                "seed_seconds": workspace.seconds,
                "seed_rows": workspace.rows,
                "week": workspace.week_day.isoformat(),
                "rows": rows,
                "profile": profile,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
