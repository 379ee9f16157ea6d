"""`make bench`: patient search latency over 100,000 patients on SQLite, and on PostgreSQL when configured.

Then the messaging, webhook (bench/webhook_suite.py), scheduling, staff workspace, patient portal and care suites (bench/messaging.py,
bench/scheduling.py, bench/workspace.py, bench/portal.py, bench/care.py); `--suite NAME` runs one of them
alone.

Each database is measured in a child process of its own (settings read DATABASE_URL once). PostgreSQL is
used when CARELINE_BENCH_DATABASE_URL (or CARELINE_TEST_DATABASE_URL) names a server: a dedicated database
`careline_bench` is created there and dropped at the end. The Markdown table goes to stdout and to
<CARELINE_VAR_DIR>/results.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB_NAME = "careline_bench"
TARGET_P95_MS = 20.0


def var_dir() -> Path:
    path = Path(os.environ.get("CARELINE_VAR_DIR", ROOT / "var" / "bench"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def _admin_connection(server_url: str) -> psycopg.Connection[Any]:
    """An autocommit connection to the server's maintenance database (CREATE/DROP DATABASE need it)."""
    last_error: Exception | None = None
    for database in ("postgres", urlsplit(server_url).path.lstrip("/") or "postgres"):
        try:
            return psycopg.connect(
                _with_database(server_url, database).replace("postgres://", "postgresql://", 1),
                autocommit=True,
                connect_timeout=5,
            )
        except psycopg.OperationalError as exc:
            last_error = exc
    raise SystemExit(f"bench: cannot reach PostgreSQL at {urlsplit(server_url).hostname}: {last_error}")


def _run_child(database_url: str, args: argparse.Namespace, out: Path) -> dict[str, Any]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CELERY_")}
    env.update(DATABASE_URL=database_url, CARELINE_VAR_DIR=str(var_dir()), DEBUG="false")
    command = [
        sys.executable,
        "-m",
        "bench.search",
        "--patients",
        str(args.patients),
        "--queries",
        str(args.queries),
        "--baseline-queries",
        str(args.baseline_queries),
        "--out",
        str(out),
    ]
    subprocess.run(command, env=env, cwd=ROOT, check=True)
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def bench_sqlite(args: argparse.Namespace) -> dict[str, Any]:
    """Measure on a fresh SQLite file under var/bench, removed afterwards."""
    with tempfile.TemporaryDirectory(dir=var_dir(), prefix="sqlite-") as folder:
        return _run_child(f"sqlite:///{Path(folder) / 'bench.sqlite3'}", args, Path(folder) / "out.json")


def bench_postgres(server_url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Measure on a dedicated `careline_bench` database on SERVER_URL's server, dropped afterwards."""
    name = sql.Identifier(BENCH_DB_NAME)
    with _admin_connection(server_url) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(name))
    try:
        with tempfile.TemporaryDirectory(dir=var_dir(), prefix="pg-") as folder:
            return _run_child(_with_database(server_url, BENCH_DB_NAME), args, Path(folder) / "out.json")
    finally:
        with _admin_connection(server_url) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def report(results: list[dict[str, Any]], args: argparse.Namespace) -> str:
    """The Markdown table (and a line on the machine) for the README."""
    lines = [
        f"Patient search over {args.patients:,} patients, as a front-desk user of one of two locations; "
        f"{args.queries} searches of each kind after warm-up, naive baseline {args.baseline_queries} searches.",
        f"Machine: {os.cpu_count()} cores, {_cpu_model()}; Python {platform.python_version()}.",
        "",
        "| Database | Search | Median | p95 | SQL queries / search | Naive `icontains` scan, median | Speed-up |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for result in results:
        for row in result["rows"]:
            lines.append(
                f"| {result['database']} | {row['search']} | {row['median_ms']:.2f} ms | {row['p95_ms']:.2f} ms "
                f"| {row['queries']} | {row['naive_median_ms']:.1f} ms | {row['naive_median_ms'] / row['median_ms']:.0f}× |"
            )
    lines.append("")
    for result in results:
        lines.append(
            f"- {result['database']}: {result['patients']:,} patients loaded in {result['load_seconds']:.1f} s."
        )
    slow = [
        f"{result['database']} {row['search']} ({row['p95_ms']:.1f} ms)"
        for result in results
        for row in result["rows"]
        if row["p95_ms"] >= TARGET_P95_MS
    ]
    lines.append(
        f"- Target p95 < {TARGET_P95_MS:.0f} ms: "
        + ("met everywhere." if not slow else "MISSED for " + ", ".join(slow))
    )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--baseline-queries", type=int, default=30)
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    parser.add_argument("--quick", action="store_true", help="smaller runs (a couple of minutes in all)")
    parser.add_argument(
        "--suite",
        choices=(
            "all",
            "search",
            "messaging",
            "webhook",
            "scheduling",
            "workspace",
            "portal",
            "billing",
            "outreach",
            "service",
            "care",
            "rows",
        ),
        default="all",
    )
    parser.add_argument("--reminders", type=int, help="due reminders in the dispatch benchmark (100,000)")
    args = parser.parse_args()
    if args.quick:
        args.patients = min(args.patients, 20_000)
    server_url = os.environ.get("CARELINE_BENCH_DATABASE_URL") or os.environ.get("CARELINE_TEST_DATABASE_URL")
    suites = {
        "messaging": _bench_messaging,
        "webhook": _bench_webhook,
        "scheduling": _bench_scheduling,
        "workspace": _bench_workspace,
        "portal": _bench_portal,
        "billing": _bench_billing,
        "outreach": _bench_outreach,
        "service": _bench_service,
        "care": _bench_care,
        "rows": _bench_rows,
    }
    if args.suite in suites:
        suites[args.suite](args)
        return
    results = []
    if args.only != "postgres":
        results.append(bench_sqlite(args))
    if args.only != "sqlite":
        if server_url:
            results.append(bench_postgres(server_url, args))
        else:
            print("bench: PostgreSQL skipped (set CARELINE_BENCH_DATABASE_URL or CARELINE_TEST_DATABASE_URL)")
    table = report(results, args)
    (var_dir() / "results.md").write_text(table)
    print(table)
    if args.suite == "all":
        _bench_messaging(args)
        _bench_webhook(args)
        _bench_scheduling(args)
        _bench_workspace(args)
        _bench_portal(args)
        _bench_billing(args)
        _bench_outreach(args)
        _bench_service(args)
        _bench_care(args)
        _bench_rows(args)


def _bench_rows(args: argparse.Namespace) -> None:
    """Message rows and reminder planning beside their baselines, appended to results.md (bench/row_creation.py)."""
    from bench import row_creation

    section = row_creation.run(var_dir(), quick=args.quick)
    with (var_dir() / "results.md").open("a") as results:
        results.write(section)
    print(section)


def _bench_messaging(args: argparse.Namespace) -> None:
    """The outbound pipeline and inbound webhook figures, appended to results.md (bench/messaging.py)."""
    from bench import messaging

    section = messaging.run(var_dir(), quick=args.quick)
    with (var_dir() / "results.md").open("a") as results:
        results.write(section)
    print(section)


def _bench_webhook(args: argparse.Namespace) -> None:
    """The webhooks under signed load and the batched status step, appended to results.md (bench/webhook_suite.py)."""
    from bench import webhook_suite

    section = webhook_suite.run(var_dir(), quick=args.quick)
    with (var_dir() / "results.md").open("a") as results:
        results.write(section)
    print(section)


def _bench_scheduling(args: argparse.Namespace) -> None:
    """Reminder planning and dispatch figures, appended to results.md (bench/scheduling.py)."""
    from bench import scheduling

    section = scheduling.run(var_dir(), quick=args.quick, reminders=args.reminders)
    with (var_dir() / "results.md").open("a") as results:
        results.write(section)
    print(section)


def _bench_workspace(args: argparse.Namespace) -> None:
    """Inbox, conversation and calendar week page figures, appended to results.md (bench/workspace.py)."""
    from bench import workspace

    section = workspace.run(var_dir(), quick=args.quick, only=args.only)
    with (var_dir() / "results.md").open("a") as results:
        results.write(section)
    print(section)


def _bench_billing(args: argparse.Namespace) -> None:
    """Statements for many patients generated and queued, appended to results.md (bench/billing.py)."""
    from bench import billing

    section = billing.run(var_dir(), quick=args.quick, only=args.only, patients=args.patients)
    print(section)
    with (var_dir() / "results.md").open("a", encoding="utf-8") as handle:
        handle.write("\n" + section)


def _bench_outreach(args: argparse.Namespace) -> None:
    """Recall audiences over 100,000 patients, appended to results.md (bench/outreach.py)."""
    from bench import outreach

    section = outreach.run(var_dir(), quick=args.quick, only=args.only, patients=args.patients)
    with (var_dir() / "results.md").open("a") as results:
        results.write(section)
    print(section)


def _bench_service(args: argparse.Namespace) -> None:
    """The Service report over a year of messages, appended to results.md (bench/service.py)."""
    from bench import service

    section = service.run(var_dir(), quick=args.quick, only=args.only)
    print(section)
    with (var_dir() / "results.md").open("a") as results:
        results.write("\n### Service report (issue 13)\n\n" + section)


def _bench_portal(args: argparse.Namespace) -> None:
    """Every portal page a signed-in patient opens, appended to results.md (bench/portal.py)."""
    from bench import portal

    section = portal.run(var_dir(), quick=args.quick, only=args.only)
    with (var_dir() / "results.md").open("a") as results:
        results.write(section)
    print(section)


def _bench_care(args: argparse.Namespace) -> None:
    """Care check-ins sent, replies read and the nurses' worklist, appended to results.md (bench/care.py)."""
    from bench import care

    section = care.run(var_dir(), quick=args.quick, only=args.only)
    with (var_dir() / "results.md").open("a", encoding="utf-8") as results:
        results.write(section)
    print(section)


if __name__ == "__main__":
    main()
