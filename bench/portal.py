"""The patient portal part of `make bench`: every portal page a signed-in patient opens, on each database.

SQLite and PostgreSQL (`--only` picks one); PostgreSQL when CARELINE_BENCH_DATABASE_URL (or
CARELINE_TEST_DATABASE_URL) names a server (a database `careline_bench_portal`, or the name in
CARELINE_BENCH_PORTAL_DB, is created there and dropped). Each database is seeded and measured in a child
process (bench/portal_pages.py) that returns JSON; this module prints Markdown.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from psycopg import sql

from bench.messaging import _admin, _child, _database

DB_NAME = os.environ.get("CARELINE_BENCH_PORTAL_DB", "careline_bench_portal")
TARGET_P95_MS = 100.0
BASELINE = "Baseline: trivial portal page"


def _measure(server: str, var: Path, arguments: list[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(dir=var, prefix="portal-") as name:
        folder = Path(name)
        if not server:
            return _child(
                "bench.portal_pages",
                {"DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}"},
                folder,
                arguments,
            )
        name_id = sql.Identifier(DB_NAME)
        _admin(server, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name_id))
        _admin(server, sql.SQL("CREATE DATABASE {}").format(name_id))
        try:
            return _child(
                "bench.portal_pages", {"DATABASE_URL": _database(server, DB_NAME)}, folder, arguments
            )
        finally:
            _admin(server, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name_id))


def run(var: Path, *, quick: bool, only: str | None = None) -> str:
    """Seed and measure on SQLite, then PostgreSQL when configured (ONLY: just that one); Markdown."""
    arguments = (
        ["--quick", "--runs", "2", "--requests", "10"] if quick else ["--runs", "3", "--requests", "20"]
    )
    server = os.environ.get("CARELINE_BENCH_DATABASE_URL") or os.environ.get("CARELINE_TEST_DATABASE_URL")
    results = [_measure("", var, arguments)] if only != "postgres" else []
    if only != "sqlite":
        if server:
            results.append(_measure(server, var, arguments))
        else:
            print("bench: portal on PostgreSQL skipped (set CARELINE_BENCH_DATABASE_URL)")
    return report(results)


def report(results: list[dict[str, Any]]) -> str:
    """Markdown: per database, each page's median, p95, CPU, SQL queries and cost beside the baseline."""
    if not results:
        return ""
    sizes = results[0]["sizes"]
    lines = [
        "",
        "### Patient portal",
        "",
        f"{sizes['patients']:,} patients (every tenth with a portal account), {sizes['messages']:,} messages, "
        f"{sizes['results']:,} lab results; signed in as the patient with the longest texting history. Server "
        "time in-process through the whole middleware stack, pages requested in turn; median and p95 of all "
        "requests of all runs; SQL queries of one request.",
        "",
        "| Database | Page | Median | p95 | Python CPU, median | SQL queries | Median / baseline |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for result in results:
        baseline = next(row["median_ms"] for row in result["rows"] if row["page"] == BASELINE)
        for row in result["rows"]:
            lines.append(
                f"| {result['database']} | {row['page']} | {row['median_ms']:.1f} ms | {row['p95_ms']:.1f} ms "
                f"| {row['cpu_median_ms']:.1f} ms | {row['queries']} | {row['median_ms'] / baseline:.1f}× |"
            )
    lines.append("")
    for result in results:
        seconds = result["seed_seconds"]
        steps = ", ".join(f"{name} {value:.0f} s" for name, value in seconds.items() if name != "total")
        lines.append(
            f"- {result['database']}: seeded in {sum(v for k, v in seconds.items() if k != 'total'):.0f} s ({steps})."
        )
        if result["unmeasured"]:
            lines.append(
                f"- {result['database']}: NOT MEASURED (add their arguments to bench/portal_pages.py): {', '.join(result['unmeasured'])}."
            )
    missed = [
        f"{result['database']} {row['page']} {row['p95_ms']:.0f} ms"
        for result in results
        for row in result["rows"]
        if row["page"] != BASELINE and row["p95_ms"] >= TARGET_P95_MS
    ]
    lines.append(
        f"- Target p95 < {TARGET_P95_MS:.0f} ms: "
        + ("MISSED: " + "; ".join(missed) if missed else "met everywhere.")
    )
    return "\n".join(lines) + "\n"
