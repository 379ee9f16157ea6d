"""The row-creation part of `make bench` (`--suite rows`): message rows and reminder planning on PostgreSQL.

One child process (bench/rows.py) on a fresh database named after the server URL's own database plus
`_bench_rows` (so engineers sharing a server do not drop each other's), dropped at the end; this module
prints Markdown. Targets: 2,000 message rows/s (10,000 patients' announcement queued in under 5 s) and
100,000 appointments planned in under 10 s.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from psycopg import sql

from bench.messaging import _admin, _child, _database

ROWS_TARGET = 2_000.0
FANOUT_TARGET_SECONDS = 5.0
PLAN_TARGET_SECONDS = 10.0


def run(var: Path, *, quick: bool) -> str:
    """Measure on PostgreSQL (CARELINE_BENCH_DATABASE_URL or CARELINE_TEST_DATABASE_URL); the Markdown."""
    server = os.environ.get("CARELINE_BENCH_DATABASE_URL") or os.environ.get("CARELINE_TEST_DATABASE_URL")
    if not server:
        return "\nbench: row creation skipped (set CARELINE_BENCH_DATABASE_URL)\n"
    name = f"{urlsplit(server).path.lstrip('/') or 'careline'}_bench_rows"
    arguments = ["--patients", "2000" if quick else "10000", "--appointments", "20000" if quick else "100000"]
    arguments += ["--sample", "200" if quick else "500", "--runs", "1" if quick else "3"]
    env = {}
    broker = os.environ.get("CARELINE_BENCH_BROKER_URL") or os.environ.get("CARELINE_TEST_BROKER_URL")
    if broker:
        env["CELERY_BROKER_URL"] = broker
    identifier = sql.Identifier(name)
    with tempfile.TemporaryDirectory(dir=var, prefix="rows-") as folder:
        _admin(server, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier))
        _admin(server, sql.SQL("CREATE DATABASE {}").format(identifier))
        try:
            env["DATABASE_URL"] = _database(server, name)
            result = _child("bench.rows", env, Path(folder), arguments)
        finally:
            _admin(server, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier))
    return report(result)


def _line(label: str, measured: dict[str, float], target: str) -> str:
    rate = measured["rows"] / measured["wall"]
    database = f"{measured['db_cpu']:.2f} s" if "db_cpu" in measured else "–"
    return (
        f"| {label} | {measured['rows']:,.0f} | {measured['wall']:.2f} s | {rate:,.0f} | "
        f"{measured['cpu']:.2f} s | {database} | {measured['load']:.1f} | {measured['runs']:.0f} | {target} |"
    )


def report(result: dict[str, Any]) -> str:
    """Markdown: each measurement beside its baseline (medians; CPU is the Python process's own)."""
    lines = [
        "",
        f"### Row creation and reminder planning ({result['database']}, {result['cpus']} CPUs)",
        "",
        "| Measurement | Rows | Wall (median) | Rows / s | CPU of the process | CPU of the database backend "
        "| Load average (1 min) | Runs | Target |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    send, fanout, plan = result.get("send_bulk"), result.get("fanout"), result.get("plan")
    if "send_baseline" in result:
        lines.append(_line("`message_send`, one at a time (baseline)", result["send_baseline"], "–"))
    if send:
        ok = send["rows"] / send["wall"] >= ROWS_TARGET
        lines.append(_line("`messages_send_bulk`", send, f">= 2,000 rows/s: {'met' if ok else 'MISSED'}"))
    if "fanout_baseline" in result:
        lines.append(
            _line("Announcement, `message_send` per recipient (baseline)", result["fanout_baseline"], "–")
        )
    if fanout:
        ok = fanout["wall"] < FANOUT_TARGET_SECONDS
        lines.append(
            _line(
                f"Announcement fan-out to {result['patients']:,} patients",
                fanout,
                f"< 5 s: {'met' if ok else 'MISSED'}",
            )
        )
    again = result.get("fanout_again")
    if again:
        ok = again["wall"] < FANOUT_TARGET_SECONDS
        lines.append(
            _line(
                f"Announcement fan-out again (their conversations exist), {result['patients']:,} patients",
                again,
                f"< 5 s: {'met' if ok else 'MISSED'}",
            )
        )
    if "plan_baseline" in result:
        lines.append(_line("Reminder planning, instance per row (baseline)", result["plan_baseline"], "–"))
    if plan:
        ok = plan["wall"] < PLAN_TARGET_SECONDS
        label = f"Reminder planning, {result['appointments']:,} appointments"
        lines.append(_line(label, plan, f"< 10 s: {'met' if ok else 'MISSED'}"))
    return "\n".join(lines) + "\n"
