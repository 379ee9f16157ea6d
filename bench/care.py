"""The care-after-discharge part of `make bench`: check-ins planned and sent, replies read, the nurses' worklist.

SQLite and PostgreSQL (`--only` picks one); PostgreSQL when CARELINE_BENCH_DATABASE_URL (or
CARELINE_TEST_DATABASE_URL) names a server (a database `careline_bench_care`, or the name in
CARELINE_BENCH_CARE_DB, is created there and dropped). Each database is seeded and measured in a child
process (bench/care_run.py) that returns JSON; this module prints Markdown.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from psycopg import sql

from bench.messaging import _admin, _child, _database

DB_NAME = os.environ.get("CARELINE_BENCH_CARE_DB", "careline_bench_care")


def _measure(server: str, var: Path, arguments: list[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(dir=var, prefix="care-") as name:
        folder = Path(name)
        if not server:
            env = {"DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}"}
            return _child("bench.care_run", env, folder, arguments)
        name_id = sql.Identifier(DB_NAME)
        _admin(server, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name_id))
        _admin(server, sql.SQL("CREATE DATABASE {}").format(name_id))
        try:
            return _child("bench.care_run", {"DATABASE_URL": _database(server, DB_NAME)}, folder, arguments)
        finally:
            _admin(server, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name_id))


def run(var: Path, *, quick: bool, only: str | None = None) -> str:
    """Seed and measure on SQLite, then PostgreSQL when configured (ONLY: just that one); Markdown."""
    arguments = (
        ["--patients", "2000", "--runs", "2", "--requests", "10"]
        if quick
        else ["--patients", "10000", "--runs", "3", "--requests", "20"]
    )
    server = os.environ.get("CARELINE_BENCH_DATABASE_URL") or os.environ.get("CARELINE_TEST_DATABASE_URL")
    results = [_measure("", var, arguments)] if only != "postgres" else []
    if only != "sqlite":
        if server:
            results.append(_measure(server, var, arguments))
        else:
            print("bench: care on PostgreSQL skipped (set CARELINE_BENCH_DATABASE_URL)")
    for result in results:
        profile = var / f"care-profile-{result['database'].split()[0].lower()}.md"
        profile.write_text(profile_report(result))
    return report(results)


def _ms(value: float) -> str:
    return f"{value:.1f} ms"


def report(results: list[dict[str, Any]]) -> str:
    """Markdown: per database, planning, sending, replies and the worklist, each beside its baseline."""
    if not results:
        return ""
    first = results[0]
    lines = [
        "",
        "### Care after discharge",
        "",
        f"{first['patients']:,} patients enrolled in the hypertension program (texts by the simulator), "
        f"{first['sweep']['plain_count'] * 10:,} not enrolled for the baselines, one location. Celery eager: "
        "each step's dispatch to the simulator, inbound processing and delivery report run in the process "
        "and count. Wall and Python CPU time; the baselines interleaved with what they compare to.",
        "",
        "| Database | Step | Median | p95 | CPU, median | Throughput | Baseline median | Ratio |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        sweep, replies, worklist = r["sweep"], r["replies"], r["worklist"]
        lines.append(
            f"| {r['database']} | Check-in sent by the sweep (claim, text, prompt), per check-in "
            f"| {_ms(sweep['per_checkin_median_ms'])} | – | {_ms(sweep['per_checkin_cpu_median_ms'])} "
            f"| {sweep['per_second']:.0f}/s | {_ms(sweep['plain_median_ms'])} (plain `message_send`) "
            f"| {sweep['per_checkin_median_ms'] / sweep['plain_median_ms']:.1f}× |"
        )
        lines.append(
            f"| {r['database']} | Reply read through the router (parse, store, judge, confirm) "
            f"| {_ms(replies['median_ms'])} | {_ms(replies['p95_ms'])} | {_ms(replies['cpu_median_ms'])} "
            f"| {replies['per_second']:.0f}/s | {_ms(replies['plain_median_ms'])} (plain inbound text) "
            f"| {replies['median_ms'] / replies['plain_median_ms']:.1f}× |"
        )
        wl, base = worklist["worklist"], worklist["baseline"]
        lines.append(
            f"| {r['database']} | Worklist `/care/`, {r['open_alerts']:,} open alerts "
            f"({worklist['alerts_shown']} listed, {worklist['queries']} SQL queries) "
            f"| {_ms(wl['median_ms'])} | {_ms(wl['p95_ms'])} | {_ms(wl['cpu_median_ms'])} | – "
            f"| {_ms(base['median_ms'])} (trivial signed-in view) | {wl['median_ms'] / base['median_ms']:.0f}× |"
        )
        if "trend" in worklist:
            tr = worklist["trend"]
            lines.append(
                f"| {r['database']} | A row's trend (HTMX, when opened; {worklist['trend_queries']} SQL queries) "
                f"| {_ms(tr['median_ms'])} | {_ms(tr['p95_ms'])} | {_ms(tr['cpu_median_ms'])} | – "
                f"| {_ms(base['median_ms'])} (trivial signed-in view) | {tr['median_ms'] / base['median_ms']:.0f}× |"
            )
    lines.append("")
    for r in results:
        plan = r["plan"]
        lines.append(
            f"- {r['database']}: `care.plan_ahead` over {plan['enrolments']:,} enrolments: "
            f"{plan['cold_seconds']:.1f} s ({plan['cold_cpu_seconds']:.1f} s CPU) planning a week for each "
            f"({plan['planned']:,} check-ins), {plan['warm_seconds'] * 1000:.0f} ms with nothing missing; "
            f"{r['sweep']['sent']:,} check-ins sent in {r['sweep']['seconds']:.0f} s over "
            f"{r['sweep']['sweeps']} sweeps; {r['replies']['replies']:,} replies in "
            f"{r['replies']['seconds']:.0f} s ({r['replies']['readings']:,} readings, "
            f"{r['replies']['alerts']:,} alerts); load average at the end "
            f"{', '.join(f'{x:.1f}' for x in r['load_average'])}."
        )
    return "\n".join(lines) + "\n"


def profile_report(result: dict[str, Any]) -> str:
    """The cProfile tables of the sweep, the replies and the worklist, for var/bench/care-profile-*.md."""
    sections = [
        ("Check-in sweep, per check-in", result["profiles"]["sweep"]),
        ("Replies, per reply", result["profiles"]["replies"]),
        ("Worklist, per request", result["worklist"]["profile"]),
        ("A row's trend, per request", result["worklist"].get("trend_profile", [])),
    ]
    lines = [f"# Care bench profile on {result['database']}", ""]
    for title, entries in sections:
        lines += [
            f"## {title}",
            "",
            "| Function | Calls | Own ms | Total ms |",
            "| --- | ---: | ---: | ---: |",
        ]
        for e in entries:
            lines.append(
                f"| `{e['function']}` | {e['calls']:.1f} | {e['own_ms']:.2f} | {e['total_ms']:.2f} |"
            )
        lines.append("")
    return "\n".join(lines) + "\n"
