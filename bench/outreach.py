"""The outreach part of `make bench`: recall audiences over 100,000 patients, on each database.

SQLite, and PostgreSQL when CARELINE_BENCH_DATABASE_URL (or CARELINE_TEST_DATABASE_URL) names a server (a
database `outreach_bench` is created there and dropped). Each database is seeded and measured in a child
process (bench/outreach_run.py); this module prints Markdown. Target: a recall audience query over 100,000
patients under 2 s. The baseline, measured in the same run, is the plain count of the location's patients.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from psycopg import sql

from bench.messaging import _admin, _child, _database

DB_NAME = "outreach_bench"
TARGET_SECONDS = 2.0


def _measure(server: str, var: Path, arguments: list[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(dir=var, prefix="outreach-") as name:
        folder = Path(name)
        if not server:
            env = {"DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}"}
            return _child("bench.outreach_run", env, folder, arguments)
        name_id = sql.Identifier(DB_NAME)
        _admin(server, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name_id))
        _admin(server, sql.SQL("CREATE DATABASE {}").format(name_id))
        try:
            return _child(
                "bench.outreach_run", {"DATABASE_URL": _database(server, DB_NAME)}, folder, arguments
            )
        finally:
            _admin(server, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name_id))


def run(var: Path, *, quick: bool, only: str | None = None, patients: int = 100_000) -> str:
    """Seed and measure on SQLite, then PostgreSQL when configured (ONLY: just that one); Markdown."""
    arguments = ["--patients", str(min(patients, 10_000) if quick else patients)]
    server = os.environ.get("CARELINE_BENCH_DATABASE_URL") or os.environ.get("CARELINE_TEST_DATABASE_URL")
    results = [_measure("", var, arguments)] if only != "postgres" else []
    if only != "sqlite":
        if server:
            results.append(_measure(server, var, arguments))
        else:
            print("bench: outreach on PostgreSQL skipped (set CARELINE_BENCH_DATABASE_URL)")
    return report(results)


def report(results: list[dict[str, Any]]) -> str:
    lines = [
        "Recall audiences over one location's patients (median of runs): the rule's query (count), and the "
        "preview (count, who is skipped and why, the first 20 rows); baseline: the plain count of the "
        "location's patients.",
        "",
        "| Database | Patients | Rule | Due | Query | Preview | Baseline | Query / baseline |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        for rule in r["rules"]:
            lines.append(
                f"| {r['database']} | {r['patients']:,} | {rule['rule']} | {rule['due']:,} | "
                f"{rule['query_ms']:.0f} ms | {rule['preview_ms']:.0f} ms | {r['baseline_ms']:.0f} ms | "
                f"{rule['query_ms'] / max(r['baseline_ms'], 0.01):.1f}x |"
            )
    for r in results:
        if r["patients"] >= 100_000:
            slowest = max(rule["query_ms"] for rule in r["rules"]) / 1000
            verdict = "met" if slowest < TARGET_SECONDS else "MISSED"
            lines.append(
                f"\n- Target: a recall audience query over 100,000 patients under {TARGET_SECONDS:.0f} s on "
                f"{r['database']}: {verdict} (slowest rule {slowest:.2f} s)."
            )
    return "\n".join(lines) + "\n"
