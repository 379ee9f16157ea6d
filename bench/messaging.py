"""The messaging part of `make bench`: the outbound pipeline and the inbound webhook, on each database.

Embedded default: SQLite + the filesystem broker. At scale: PostgreSQL (CARELINE_BENCH_DATABASE_URL or
CARELINE_TEST_DATABASE_URL; a database `careline_bench_messaging` is created there and dropped) + Redis
(CARELINE_BENCH_BROKER_URL or CARELINE_TEST_BROKER_URL). Each measurement runs in a child process
(bench/messaging_outbound.py, bench/messaging_inbound.py) and returns JSON; this module prints Markdown.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "careline_bench_messaging"
OUTBOUND_TARGET = 0.5  # of the plain loop's rate
INBOUND_P99_TARGET_MS = 50.0


def _database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def _admin(server_url: str, statement: sql.Composed) -> None:
    url = _database(server_url, "postgres").replace("postgres://", "postgresql://", 1)
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(statement)


def _child(module: str, env_extra: dict[str, str], folder: Path, arguments: list[str]) -> dict[str, Any]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CELERY_")}
    env.update(env_extra, CARELINE_VAR_DIR=str(folder), DEBUG="false")
    out = folder / "out.json"
    subprocess.run(
        [sys.executable, "-m", module, *arguments, "--out", str(out)], env=env, cwd=ROOT, check=True
    )
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def _setups(var: Path) -> list[tuple[str, str, str | None]]:
    """(label, database URL or '' for a fresh SQLite file, broker URL or None for the filesystem broker)."""
    setups: list[tuple[str, str, str | None]] = [("SQLite + filesystem broker", "", None)]
    server = os.environ.get("CARELINE_BENCH_DATABASE_URL") or os.environ.get("CARELINE_TEST_DATABASE_URL")
    broker = os.environ.get("CARELINE_BENCH_BROKER_URL") or os.environ.get("CARELINE_TEST_BROKER_URL")
    if server and broker:
        setups.append(("PostgreSQL + Redis", server, broker))
    else:
        print(
            "bench: messaging on PostgreSQL + Redis skipped (set CARELINE_BENCH_DATABASE_URL and _BROKER_URL)"
        )
    return setups


def _measure(
    module: str, label: str, server: str, broker: str | None, var: Path, arguments: list[str]
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(dir=var, prefix="messaging-") as name:
        folder = Path(name)
        env = {"CELERY_BROKER_URL": broker} if broker else {}
        if not server:
            env["DATABASE_URL"] = f"sqlite:///{folder / 'bench.sqlite3'}"
            return _child(module, env, folder, [*arguments, "--label", label])
        name_id = sql.Identifier(DB_NAME)
        _admin(server, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name_id))
        _admin(server, sql.SQL("CREATE DATABASE {}").format(name_id))
        try:
            env["DATABASE_URL"] = _database(server, DB_NAME)
            return _child(module, env, folder, [*arguments, "--label", label])
        finally:
            _admin(server, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name_id))


def run(var: Path, *, quick: bool) -> str:
    """Measure everything; the Markdown section for results.md and the README."""
    messages, ceiling_messages = (3000, 1000) if quick else (20_000, 3000)
    seconds, runs = (3, 3) if quick else (10, 3)
    outbound: list[dict[str, Any]] = []
    inbound: list[dict[str, Any]] = []
    for label, server, broker in _setups(var):
        outbound.append(
            _measure(
                "bench.messaging_outbound",
                label,
                server,
                broker,
                var,
                ["--messages", str(messages), "--ceiling-messages", str(ceiling_messages)],
            )
        )
        inbound.append(
            _measure(
                "bench.messaging_inbound",
                label,
                server,
                broker,
                var,
                ["--rate", "300", "--seconds", str(seconds), "--runs", str(runs)],
            )
        )
    return report(outbound, inbound)


def report(outbound: list[dict[str, Any]], inbound: list[dict[str, Any]]) -> str:
    lines = [
        "",
        "### Messaging: outbound pipeline",
        "",
        "Messages sent through rows, real Celery workers (2 processes, 4 threads each), the Twilio channel type "
        "and the `twilio` client to the loopback Twilio double (rate limiter off), beside a plain loop posting "
        "the same requests with the same client to the same double (the ceiling).",
        "",
        "| Setup | Messages | Pipeline | Ceiling (plain loop) | Pipeline / ceiling | Rows created by `message_send` |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in outbound:
        share = row["sent_per_second"] / row["ceiling_per_second"]
        lines.append(
            f"| {row['label']} | {row['messages']:,} | {row['sent_per_second']:.0f} msg/s "
            f"| {row['ceiling_per_second']:.0f} msg/s | {share:.0%} | {row['created_per_second']:.0f} msg/s |"
        )
    missed = [
        row["label"]
        for row in outbound
        if row["sent_per_second"] < OUTBOUND_TARGET * row["ceiling_per_second"]
    ]
    lines.append("")
    lines.append(
        f"- Target ≥ {OUTBOUND_TARGET:.0%} of the ceiling: "
        + ("met everywhere." if not missed else "MISSED for " + ", ".join(missed))
    )
    lost = sum(row["not_sent"] for row in outbound)
    lines.append(f"- Messages not sent at the end: {lost}.")
    lines += [
        "",
        "### Messaging: inbound webhook",
        "",
        "Signed Twilio inbound webhooks (`/webhooks/twilio/messages`, signature checked, message stored) at a "
        "fixed rate, open loop, against gunicorn (3 processes × 4 threads), beside a bare Django view on the "
        "same server; medians of the runs.",
        "",
        "| Setup | Endpoint | Asked | Achieved | p50 | p99 | Errors | Stored |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in inbound:
        for endpoint in ("webhook", "bare"):
            data = row[endpoint]
            saturated = " (saturated)" if data.get("overloaded") else ""
            stored = f"{row['stored']:,}" if endpoint == "webhook" else "–"
            lines.append(
                f"| {row['label']} | {'Twilio webhook' if endpoint == 'webhook' else 'bare Django view'} "
                f"| {row['rate']:.0f} req/s | {data['per_second']:.0f} req/s{saturated} | {data['p50_ms']:.1f} ms "
                f"| {data['p99_ms']:.1f} ms | {data['errors']:.0f} | {stored} |"
            )
    slow = [row["label"] for row in inbound if row["webhook"]["p99_ms"] >= INBOUND_P99_TARGET_MS]
    lines.append("")
    lines.append(
        f"- Target p99 < {INBOUND_P99_TARGET_MS:.0f} ms at 300 req/s: "
        + ("met everywhere." if not slow else "MISSED for " + ", ".join(slow))
    )
    return "\n".join(lines) + "\n"
