"""The staff workspace part of `make bench`: inbox, conversation and calendar week pages, on each database.

SQLite and PostgreSQL (`--only` picks one); PostgreSQL when CARELINE_BENCH_DATABASE_URL (or
CARELINE_TEST_DATABASE_URL) names a server (a database `careline_bench_workspace`, or the name in
CARELINE_BENCH_WORKSPACE_DB so two runs on one server do not collide, is created there and dropped). Each database is seeded and measured in a
child process (bench/workspace_pages.py) that returns JSON; this module prints Markdown.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from psycopg import sql

from bench.messaging import _admin, _child, _database

DB_NAME = os.environ.get("CARELINE_BENCH_WORKSPACE_DB", "careline_bench_workspace")
TARGET_P95_MS = 100.0
BASELINE = "Baseline: trivial signed-in view"


def _measure(server: str, var: Path, arguments: list[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(dir=var, prefix="workspace-") as name:
        folder = Path(name)
        if not server:
            env = {"DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}"}
            return _child("bench.workspace_pages", env, folder, arguments)
        name_id = sql.Identifier(DB_NAME)
        _admin(server, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name_id))
        _admin(server, sql.SQL("CREATE DATABASE {}").format(name_id))
        try:
            env = {"DATABASE_URL": _database(server, DB_NAME)}
            return _child("bench.workspace_pages", env, folder, arguments)
        finally:
            _admin(server, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name_id))


def run(var: Path, *, quick: bool, only: str | None = None) -> str:
    """Seed and measure on SQLite, then PostgreSQL when configured (ONLY: just that one); the Markdown section
    for results.md."""
    arguments = (
        ["--quick", "--runs", "2", "--requests", "10"] if quick else ["--runs", "3", "--requests", "20"]
    )
    server = os.environ.get("CARELINE_BENCH_DATABASE_URL") or os.environ.get("CARELINE_TEST_DATABASE_URL")
    results = [_measure("", var, arguments)] if only != "postgres" else []
    if only == "sqlite":
        pass
    elif server:
        results.append(_measure(server, var, arguments))
    else:
        print("bench: workspace on PostgreSQL skipped (set CARELINE_BENCH_DATABASE_URL)")
    for result in results:
        profile = var / f"workspace-profile-{result['database'].split()[0].lower()}.md"
        profile.write_text(profile_report(result))
    return report(results)


def _ms(value: float) -> str:
    return f"{value:.1f} ms"


def report(results: list[dict[str, Any]]) -> str:
    """Markdown: per database and user, each page's median, p95, SQL queries and cost beside the baseline."""
    sizes = results[0]["sizes"]
    lines = [
        "",
        "### Staff workspace",
        "",
        f"{sizes['patients']:,} patients, {sizes['conversations']:,} conversations over two locations, "
        f"{sizes['messages']:,} messages over two years; {sizes['clinicians_per_location'] * 2} clinicians with "
        f"about {sizes['visits_per_clinician_day']} visits a weekday for {2 * sizes['weeks_around'] + 1} weeks. "
        "Server time in-process through the whole middleware stack (Django test client), pages requested in "
        "turn; median and p95 of all requests of all runs; SQL queries of one request.",
        "",
        "| Database | Signed in as | Page | Median | p95 | Python CPU, median | SQL queries | Median / baseline |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for result in results:
        baseline = {r["user"]: r["median_ms"] for r in result["rows"] if r["page"] == BASELINE}
        for row in result["rows"]:
            if not row["available"]:
                lines.append(
                    f"| {result['database']} | {row['user']} | {row['page']} | – | – | – | – | not on this code |"
                )
                continue
            ratio = row["median_ms"] / baseline[row["user"]]
            lines.append(
                f"| {result['database']} | {row['user']} | {row['page']} | {_ms(row['median_ms'])} "
                f"| {_ms(row['p95_ms'])} | {_ms(row['cpu_median_ms'])} | {row['queries']} | {ratio:.1f}× |"
            )
    lines.append("")
    for result in results:
        seconds = result["seed_seconds"]
        steps = ", ".join(f"{name} {value:.0f} s" for name, value in seconds.items() if name != "total")
        lines.append(f"- {result['database']}: seeded in {seconds['total']:.0f} s ({steps}).")
    lines.append(f"- Target p95 < {TARGET_P95_MS:.0f} ms: " + _target_summary(results))
    for result in results:
        profile = result["profile"]
        top = ", ".join(f"`{entry['function']}` {entry['own_ms']:.0f} ms" for entry in profile["by_own"][:5])
        lines.append(
            f"- {result['database']}, slowest page ({profile['page']}, {profile['user']}), cProfile, own time per "
            f"request: {top}."
        )
    return "\n".join(lines) + "\n"


def _target_summary(results: list[dict[str, Any]]) -> str:
    """Which pages miss the target, per database, with their p95 for each user."""
    parts = []
    measured = missed = 0
    for result in results:
        by_page: dict[str, list[str]] = {}
        failing: set[str] = set()
        for row in result["rows"]:
            if not row["available"] or row["page"] == BASELINE:
                continue
            measured += 1
            by_page.setdefault(row["page"], []).append(f"{row['p95_ms']:.0f}")
            if row["p95_ms"] >= TARGET_P95_MS:
                missed += 1
                failing.add(row["page"])
        if failing:
            pages = "; ".join(f"{page} {' / '.join(by_page[page])} ms" for page in by_page if page in failing)
            parts.append(f"{result['database']}: {pages}")
    if not missed:
        return "met everywhere."
    return (
        f"MISSED for {missed} of {measured} page and user pairs (p95, front desk / administrator): "
        + ". ".join(parts)
        + "."
    )


def profile_report(result: dict[str, Any]) -> str:
    """The slowest page's profile and its slowest SQL statements, for var/bench/workspace-profile-*.md."""
    profile = result["profile"]
    row = next(r for r in result["rows"] if r["page"] == profile["page"] and r["user"] == profile["user"])
    lines = [
        f"# {profile['page']} ({profile['user']}) on {result['database']}",
        "",
        f"cProfile over {profile['requests']} requests of `{row['url']}`; milliseconds per request.",
        "",
        "## Most own time",
        "",
        "| Function | Calls | Own | Total |",
        "| --- | ---: | ---: | ---: |",
    ]
    for entry in profile["by_own"]:
        lines.append(
            f"| `{entry['function']}` | {entry['calls']:.0f} | {entry['own_ms']:.1f} | {entry['total_ms']:.1f} |"
        )
    lines += [
        "",
        "## Careline functions by total time",
        "",
        "| Function | Calls | Total |",
        "| --- | ---: | ---: |",
    ]
    for entry in profile["by_total_careline"]:
        lines.append(f"| `{entry['function']}` | {entry['calls']:.0f} | {entry['total_ms']:.1f} |")
    lines += ["", "## Slowest SQL of each page (one request)", ""]
    for each in result["rows"]:
        if each.get("available") and each["page"] != BASELINE:
            lines.append(f"### {each['page']} ({each['user']}): {each['queries']} queries")
            lines.append("")
            for query in each["slow_sql"]:
                lines.append(f"- {query['ms']:.1f} ms: `{query['sql']}`")
            if each.get("plan"):
                lines += ["", "Plan of the slowest SELECT:", "", "```", each["plan"], "```"]
            lines.append("")
    return "\n".join(lines) + "\n"
