"""The billing part of `make bench`: statements for many patients generated and queued, on each database.

SQLite, and PostgreSQL when CARELINE_BENCH_DATABASE_URL (or CARELINE_TEST_DATABASE_URL) names a server (a
database `careline_bench_billing` is created there and dropped). Each database is seeded and measured in a
child process (bench/billing_run.py); this module prints Markdown. Target: 100,000 patients under 60 s on
PostgreSQL.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from psycopg import sql

from bench.messaging import _admin, _child, _database

DB_NAME = "careline_bench_billing"
TARGET_SECONDS = 60.0


def _measure(server: str, var: Path, arguments: list[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(dir=var, prefix="billing-") as name:
        folder = Path(name)
        if not server:
            env = {"DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}"}
            return _child("bench.billing_run", env, folder, arguments)
        name_id = sql.Identifier(DB_NAME)
        _admin(server, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name_id))
        _admin(server, sql.SQL("CREATE DATABASE {}").format(name_id))
        try:
            return _child(
                "bench.billing_run", {"DATABASE_URL": _database(server, DB_NAME)}, folder, arguments
            )
        finally:
            _admin(server, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name_id))


def run(var: Path, *, quick: bool, only: str | None = None, patients: int = 100_000) -> str:
    """Seed and measure on SQLite, then PostgreSQL when configured (ONLY: just that one); Markdown."""
    arguments = ["--patients", str(min(patients, 5_000) if quick else patients)]
    server = os.environ.get("CARELINE_BENCH_DATABASE_URL") or os.environ.get("CARELINE_TEST_DATABASE_URL")
    results = [_measure("", var, arguments)] if only != "postgres" else []
    if only != "sqlite":
        if server:
            results.append(_measure(server, var, arguments))
        else:
            print("bench: billing on PostgreSQL skipped (set CARELINE_BENCH_DATABASE_URL)")
    return report(results)


def report(results: list[dict[str, Any]]) -> str:
    lines = [
        "Statements generated and queued (statements, lines, history, audit, texts and emails with their send "
        "tasks), one statement run in chunks; PDF drawing measured apart per page.",
        "",
        "| Database | Patients | Statements | Messages | Run | Workers | Worker CPU | Load | Per chunk (median) "
        "| PDF per page (median) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r['database']} | {r['patients']:,} | {r['statements']:,} | {r['messages']:,} | "
            f"{r['run_seconds']:.1f} s | {r.get('workers', 1)} | {r.get('worker_cpu_seconds', 0):.1f} s | "
            f"{r.get('load_average', 0):.1f} | {r['chunk_median_ms']:.0f} ms | {r['pdf_ms_per_page_median']:.1f} ms |"
        )
    for r in results:
        if r["database"] == "postgresql" and r["patients"] >= 100_000:
            verdict = "met" if r["run_seconds"] < TARGET_SECONDS else "MISSED"
            lines.append(f"\n- Target 100,000 under {TARGET_SECONDS:.0f} s on PostgreSQL: {verdict}.")
    return "\n".join(lines) + "\n"
