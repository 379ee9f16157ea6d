"""The service part of `make bench`: the Service report over a year of messages at one location, on each
database (SQLite with 100,000 messages; PostgreSQL, when CARELINE_BENCH_DATABASE_URL or
CARELINE_TEST_DATABASE_URL names a server, with 1,000,000 in a database `careline_bench_service` created and
dropped). Each database is seeded and measured in a child process (bench/service_run.py). Target: under 1 s
on PostgreSQL. The report reads the rolled-up rows; the backfill that derives them and a sweep after 1,000 new
texts are timed beside it. CPU: the bench process's plus the database backend's (PostgreSQL on this machine).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from psycopg import sql

from bench.messaging import _admin, _child, _database

DB_NAME = "careline_bench_service"
TARGET_MS = 1000.0


def _measure(server: str, var: Path, arguments: list[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(dir=var, prefix="service-") as name:
        folder = Path(name)
        if not server:
            env = {"DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}"}
            return _child("bench.service_run", env, folder, arguments)
        name_id = sql.Identifier(DB_NAME)
        _admin(server, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name_id))
        _admin(server, sql.SQL("CREATE DATABASE {}").format(name_id))
        try:
            return _child(
                "bench.service_run", {"DATABASE_URL": _database(server, DB_NAME)}, folder, arguments
            )
        finally:
            _admin(server, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name_id))


def run(var: Path, *, quick: bool, only: str | None = None) -> str:
    """Seed and measure on SQLite, then PostgreSQL when configured (ONLY: just that one); Markdown."""
    server = os.environ.get("CARELINE_BENCH_DATABASE_URL") or os.environ.get("CARELINE_TEST_DATABASE_URL")
    results = []
    if only != "postgres":
        results.append(_measure("", var, ["--messages", "20000" if quick else "100000"]))
    if only != "sqlite":
        if server:
            results.append(_measure(server, var, ["--messages", "100000" if quick else "1000000"]))
        else:
            print("bench: the service report on PostgreSQL skipped (set CARELINE_BENCH_DATABASE_URL)")
    return report(results)


def report(results: list[dict[str, Any]]) -> str:
    lines = [
        "The Service report over a year at one location (50,000 conversations; first response and resolution "
        "within opening hours with median and p90, per staff member, volume by hour and weekday, unanswered), "
        "and the survey results over 20,000 surveys; median of 5 runs.",
        "",
        "| Database | Messages | Episodes | Service report (median) | (slowest) | CPU (median) | Survey results "
        "(median) | Backfill | Sweep after 1,000 texts | Load | Target |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for r in results:
        met = "met" if r["database"] != "postgresql" or r["service_median_ms"] < TARGET_MS else "missed"
        target = f"< {TARGET_MS:.0f} ms: {met}" if r["database"] == "postgresql" else "—"
        lines.append(
            f"| {r['database']} | {r['messages']:,} | {r['episodes']:,} | {r['service_median_ms']:.0f} ms | "
            f"{r['service_max_ms']:.0f} ms | {r['service_cpu_ms']:.0f} ms | {r['results_median_ms']:.0f} ms | "
            f"{r['backfill_seconds']:.0f} s | {r['sweep_ms']:.0f} ms | {r['load'][0]}–{r['load'][1]} | {target} |"
        )
    return "\n".join(lines) + "\n"
