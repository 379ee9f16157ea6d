"""The scheduling part of `make bench`: reminder planning (SQLite, PostgreSQL) and dispatch (PostgreSQL + Redis).

Each measurement runs in a child process (bench/reminders.py) on a fresh database (SQLite file, or a
`careline_bench_reminders` database created on CARELINE_BENCH_DATABASE_URL / CARELINE_TEST_DATABASE_URL
and dropped) and returns JSON; this module prints Markdown. Dispatch needs Redis
(CARELINE_BENCH_BROKER_URL or CARELINE_TEST_BROKER_URL).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from psycopg import sql

from bench.messaging import _admin, _child, _database

DB_NAME = "careline_bench_reminders"
PLAN_TARGET_SECONDS = 10.0  # issue 14 (was 30 s)
ETA_TARGET, CEILING_TARGET, SWEEP_TARGET = 3.0, 0.5, 0.10


def _measure(server: str, broker: str | None, var: Path, arguments: list[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(dir=var, prefix="reminders-") as name:
        folder = Path(name)
        env = {"CELERY_BROKER_URL": broker} if broker else {}
        if not server:
            env["DATABASE_URL"] = f"sqlite:///{folder / 'bench.sqlite3'}"
            return _child("bench.reminders", env, folder, arguments)
        name_id = sql.Identifier(DB_NAME)
        _admin(server, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name_id))
        _admin(server, sql.SQL("CREATE DATABASE {}").format(name_id))
        try:
            env["DATABASE_URL"] = _database(server, DB_NAME)
            return _child("bench.reminders", env, folder, arguments)
        finally:
            _admin(server, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name_id))


def run(var: Path, *, quick: bool, appointments: int | None = None, reminders: int | None = None) -> str:
    """Measure planning and dispatch; the Markdown section for results.md."""
    appointments = appointments or (20_000 if quick else 100_000)
    reminders = reminders or (5_000 if quick else 100_000)
    server = os.environ.get("CARELINE_BENCH_DATABASE_URL") or os.environ.get("CARELINE_TEST_DATABASE_URL")
    broker = os.environ.get("CARELINE_BENCH_BROKER_URL") or os.environ.get("CARELINE_TEST_BROKER_URL")
    plans = [_measure("", None, var, ["plan", "--appointments", str(appointments)])]
    if server:
        plans.append(_measure(server, None, var, ["plan", "--appointments", str(appointments)]))
    dispatch = None
    if server and broker:
        dispatch = _measure(server, broker, var, ["dispatch", "--reminders", str(reminders)])
    else:
        print("bench: reminder dispatch skipped (set CARELINE_BENCH_DATABASE_URL and _BROKER_URL)")
    return report(plans, dispatch)


def report(plans: list[dict[str, Any]], dispatch: dict[str, Any] | None) -> str:
    """Markdown: planning per database, then dispatch beside the ETA design and the plain loop."""
    lines = [
        "",
        "### Reminders",
        "",
        "| Database | Appointments | Reminder rows | Planning time | Rows / s | Target < 10 s |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for plan in plans:
        ok = "met" if plan["plan_seconds"] < PLAN_TARGET_SECONDS else "MISSED"
        lines.append(
            f"| {plan['database']} | {plan['appointments']:,} | {plan['rows']:,} | {plan['plan_seconds']:.1f} s "
            f"| {plan['rows'] / plan['plan_seconds']:,.0f} | {ok} |"
        )
    if dispatch is not None:
        d = dispatch
        overhead = d["sweep_seconds"] / d["pipeline_seconds"]
        lines += [
            "",
            f"Dispatch of {d['reminders']:,} due reminders to the loopback Twilio double, {d['database']} + Redis, "
            f"{d['workers']} workers x {d['concurrency']} threads (messages SENT per second, 10%-100% of each run):",
            "",
            "| Design | Messages / s | vs ETA design | vs plain loop |",
            "| --- | ---: | ---: | ---: |",
            f"| Plain loop posting the same requests (twilio client) | {d['ceiling_per_second']:.0f} | "
            f"{d['ceiling_per_second'] / d['eta_per_second']:.1f}x | 1.00 |",
            f"| Careline: due rows + sweep, batches of 200 | {d['pipeline_per_second']:.0f} | "
            f"{d['pipeline_per_second'] / d['eta_per_second']:.1f}x | {d['pipeline_per_second'] / d['ceiling_per_second']:.2f} |",
            f"| One Celery task per reminder with an ETA | {d['eta_per_second']:.0f} | 1.0x | "
            f"{d['eta_per_second'] / d['ceiling_per_second']:.2f} |",
            "",
            f"- Sweep overhead: {d['sweep_seconds']:.1f} s in {d['sweep_runs']} sweeps of "
            f"{d['pipeline_seconds']:.0f} s dispatch ({overhead:.1%}); publishing the ETA tasks took "
            f"{d['eta_publish_seconds']:.1f} s (not counted); messages beyond one per reminder: {d['extra_messages']}.",
            f"- Targets: >= {ETA_TARGET:.0f}x the ETA design "
            f"({'met' if d['pipeline_per_second'] >= ETA_TARGET * d['eta_per_second'] else 'MISSED'}), "
            f">= {CEILING_TARGET:.0%} of the plain loop "
            f"({'met' if d['pipeline_per_second'] >= CEILING_TARGET * d['ceiling_per_second'] else 'MISSED'}), "
            f"sweep < {SWEEP_TARGET:.0%} ({'met' if overhead < SWEEP_TARGET else 'MISSED'}).",
        ]
    return "\n".join(lines) + "\n"
