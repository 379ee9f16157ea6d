"""`python -m bench --suite webhook`: the Twilio webhooks under signed load (bench/webhook.py), Markdown out.

PostgreSQL + Redis when CARELINE_BENCH_DATABASE_URL and CARELINE_BENCH_BROKER_URL (or the _TEST_ ones) name
them (a database `careline_bench_webhook`, or CARELINE_BENCH_WEBHOOK_DB, is created and dropped); SQLite +
the filesystem broker otherwise. Skipped with a message when node is missing.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from psycopg import sql

from bench.messaging import _admin, _child, _database

P99_AT_300_TARGET_MS = 50.0
P99_AT_1000_TARGET_MS = 250.0
APPLY_TARGET_PER_SECOND = 5000.0


def _generator_problem() -> str:
    import shutil

    if shutil.which("node") is None:
        return "node is not installed (Debian: apt-get install -y nodejs)"
    return ""


def run(var: Path, *, quick: bool) -> str:
    """Measure the webhook on PostgreSQL + Redis (or SQLite); the Markdown section for results.md."""
    problem = _generator_problem()
    if problem:
        return f"\n### Messaging: webhooks under load\n\nSkipped: {problem}.\n"
    server = os.environ.get("CARELINE_BENCH_DATABASE_URL") or os.environ.get("CARELINE_TEST_DATABASE_URL")
    broker = os.environ.get("CARELINE_BENCH_BROKER_URL") or os.environ.get("CARELINE_TEST_BROKER_URL")
    seconds, runs, callbacks = ("5", "3", "20000") if quick else ("10", "3", "100000")
    arguments = ["--seconds", seconds, "--runs", runs, "--callbacks", callbacks]
    with tempfile.TemporaryDirectory(dir=var, prefix="webhook-") as name:
        folder = Path(name)
        if not (server and broker):
            env = {"DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}"}
            return report(
                _child("bench.webhook", env, folder, [*arguments, "--label", "SQLite + filesystem broker"])
            )
        db_name = os.environ.get("CARELINE_BENCH_WEBHOOK_DB", "careline_bench_webhook")
        name_id = sql.Identifier(db_name)
        _admin(server, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name_id))
        _admin(server, sql.SQL("CREATE DATABASE {}").format(name_id))
        try:
            env = {"DATABASE_URL": _database(server, db_name), "CELERY_BROKER_URL": broker}
            return report(_child("bench.webhook", env, folder, [*arguments, "--label", "PostgreSQL + Redis"]))
        finally:
            _admin(server, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name_id))


def report(result: dict[str, Any]) -> str:
    """The Markdown section for one setup's result."""
    lines = [
        "",
        f"### Messaging: webhooks under load ({result['label']})",
        "",
        "Signed Twilio webhooks (3 status callbacks for each inbound text, callbacks duplicated and out of order) "
        "from bench/webhook_load.js (open loop at a rate: latency from each request's due time), beside the bare "
        f"Django view, each server in turn in every round; {result['server']}; medians of {result['runs']} runs of "
        f"{result['seconds']:g} s; {result['posted']:,} webhook requests posted of {result['signed']:,} signed. "
        "CPU over each run: the web server's processes, the PostgreSQL backends of their connections (from /proc; "
        "the WAL writer and other background processes not counted) and the generator.",
        "",
        "| Server | Endpoint | Asked | Achieved | p50 | p99 | Errors | Server CPU / request "
        "| PostgreSQL CPU / request | Generator CPU | Load |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, row in result["load"].items():
        server, _, run = name.rpartition("/")
        endpoint, asked = run.split("@")
        asked_text = "flat out" if float(asked) == 0 else f"{float(asked):,.0f} req/s"
        answered = max(1.0, row["ok"])
        per_request = 1000 * row["server_cpu_s"] / answered
        database = f"{1000 * row['database_cpu_s'] / answered:.2f} ms" if "database_cpu_s" in row else "n/a"
        lines.append(
            f"| {server or 'gunicorn'} | {'bare Django view' if endpoint == 'bare' else 'Twilio webhooks'} "
            f"| {asked_text} | {row['per_second']:,.0f} req/s | {row['p50_ms']:.0f} ms | {row['p99_ms']:.0f} ms "
            f"| {row['errors']:.0f} | {per_request:.2f} ms | {database} | {row['generator_cpu_s']:.1f} s "
            f"| {row.get('load_average', 0):.1f} |"
        )
    apply = result["apply"]
    lines += [
        "",
        f"Stored: {result['inbound_stored']:,} inbound texts, {result['callbacks_stored']:,} status callbacks. "
        f"Batch step: {apply['callbacks']:,} stored callbacks for 20,000 messages applied in "
        f"{apply['seconds']:.2f} s ({apply['per_second']:,.0f}/s, {apply['moved']:,} moves forward; "
        f"target {APPLY_TARGET_PER_SECOND:,.0f}/s).",
        "",
    ]
    return "\n".join(lines)
