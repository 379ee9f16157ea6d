"""`make chaos`: a bounded, self-stopping run that proves no text, reply or delivery report is lost or doubled
while processes die and services restart.

    python -m bench.chaos                 10,000 reminders, 2,000 inbound texts, faults for 60 s (`make chaos`)
    python -m bench.chaos --short         1,000 reminders, 200 inbound texts, one fault of each kind (CI)

Everything runs on loopback, on services of the run's own so it may crash them: a PostgreSQL cluster
(initdb into a temporary folder) and a redis-server on spare ports; 3 Celery worker processes, beat, and
gunicorn with 2 web processes; the Twilio double in this process. At the burst every reminder falls due
(a clinic's 10:00), and patients text in (confirmations, HELP, free text, a few STOPs), some texts posted
twice as providers do. While the faults last, the double answers 5% of sends with 500, holds 2% past the
client's timeout (half of those accepted first: the ambiguous case) and answers 1% with 429; every
accepted text's delivery reports ("sent", "delivered") are posted twice each, out of order; a worker is
SIGKILLed every KILL_EVERY seconds (and started again, like a service manager would); Redis is killed and
restarted once (its queued tasks are lost: it keeps nothing on disk) and PostgreSQL is crashed
(`pg_ctl -m immediate`) and restarted once. Then the faults stop and the run waits for everything to
drain; the history checker (bench/chaos_check.py) compares the rows with the double's record of requests.

Recovery timeouts are Careline's defaults in the full run (a text a dead worker held is taken back after
CARELINE_SENDING_TIMEOUT_SECONDS = 180 s, a task a broker lost is queued again after
CARELINE_LOST_TASK_SECONDS = 120 s) and shortened in the short run, so the drain time says which is used.
Exit status 0 when every guarantee held; the figures go to --out (JSON) and standard output (Markdown).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.chaos_services import Postgres, Processes, Redis, free_port

ROOT = Path(__file__).resolve().parent.parent
CLIENT_TIMEOUT = 3.0  # seconds the twilio client waits for the provider's answer
STALL = 5.0  # seconds the double holds a stalled answer (past the client's timeout)


def _plan(args: argparse.Namespace) -> list[tuple[float, str]]:
    """(seconds after the burst, fault) for the whole fault phase, in order."""
    faults: list[tuple[float, str]] = []
    at, index = args.kill_every, 0
    while at < args.fault_seconds:
        faults.append((at, f"kill worker {index % args.workers}"))
        at += args.kill_every
        index += 1
    faults.append((args.fault_seconds * 0.45, "restart redis"))
    faults.append((args.fault_seconds * 0.75, "restart postgres"))
    return sorted(faults)


def _environment(
    pg: Postgres, redis: Redis, web_port: int, folder: Path, args: argparse.Namespace
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "CARELINE_", "DATABASE_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="careline.settings",
        DATABASE_URL=pg.url,
        CELERY_BROKER_URL=redis.url,
        CELERY_TASK_DEFAULT_QUEUE="chaos",
        CARELINE_VAR_DIR=str(folder / "var"),
        CARELINE_TEXTING_WINDOW="00:00-23:59",
        CARELINE_SWEEP_SECONDS="2",
        CARELINE_RETRY_BACKOFF_MS="1000",
        PUBLIC_BASE_URL=f"http://127.0.0.1:{web_port}",
        SECRET_KEY=secrets.token_urlsafe(48),
        DEBUG="false",
    )
    if args.short:
        env.update(CARELINE_SENDING_TIMEOUT_SECONDS="15", CARELINE_LOST_TASK_SECONDS="20")
    return env


def run(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    from careline.messaging.testing.twilio_double import TwilioDouble

    pg = Postgres(folder / "pg").init()
    redis = Redis(folder).start()
    double = TwilioDouble(seed=args.seed).start()
    web_port = free_port()
    env = _environment(pg, redis, web_port, folder, args)
    (folder / "logs").mkdir()
    processes = Processes(env, folder / "logs", queue="chaos")
    webhooks = None
    try:
        os.environ.update(env)  # this process seeds and checks the same database
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from bench import chaos_check
        from bench.chaos_provider import FaultPlan, Webhooks

        started = time.monotonic()
        call_command("migrate", verbosity=0)
        os.environ[chaos_check.TOKEN_VARIABLE] = double.auth_token
        processes.env[chaos_check.TOKEN_VARIABLE] = double.auth_token
        # The provider's rate spreads the burst over most of the fault phase (replies need room too).
        rate = round(args.reminders / (args.fault_seconds * 0.7))
        clinic = chaos_check.seed(
            double, args.reminders, client_timeout=CLIENT_TIMEOUT, rate_per_second=rate, seed=args.seed
        )
        inbound = chaos_check.inbound_forms(clinic, args.inbound, seed=args.seed)
        seeded = time.monotonic() - started

        for index in range(args.workers):
            processes.start_worker(index)
        processes.start_beat()
        processes.start_web(web_port, 2)
        _wait_ready(processes, args.workers)
        plan = FaultPlan(args.seed, stall_seconds=STALL)
        double.add_hook(plan)
        webhooks = Webhooks(double, f"http://127.0.0.1:{web_port}", seed=args.seed).start()

        # The burst: every reminder due now; patients text in over the first part of the fault phase.
        events: list[chaos_check.Event] = []
        burst_at, burst_wall = time.monotonic(), time.time()
        chaos_check.burst(clinic)
        # The faults start once texts flow (the first sweep has claimed the reminders and workers send).
        while len(double.messages) < max(1, args.reminders // 100) and time.monotonic() - burst_at < 120:
            time.sleep(0.2)  # polling the double
        faults_at = time.monotonic()
        print(f"chaos: {faults_at - burst_at:5.1f} s  texts flow; faults start", flush=True)
        chooser = random.Random(args.seed)
        duplicates_posted = 0
        for form in inbound:
            delay = chooser.uniform(0, args.fault_seconds * 0.8)
            webhooks.inbound(form, delay=delay)
            if chooser.random() < 0.1:  # a provider posting the same text again
                webhooks.inbound(form, delay=delay + chooser.uniform(0, 2))
                duplicates_posted += 1

        crashed: list[str] = []
        for offset, fault in _plan(args):
            _sleep_until(faults_at + offset, processes, crashed)
            events.append(chaos_check.Event(time.time(), fault))
            print(f"chaos: {faults_at + offset - burst_at:5.1f} s  {fault}", flush=True)
            if fault.startswith("kill worker"):
                index = int(fault.rsplit(" ", 1)[1])
                processes.kill_worker(index)
                time.sleep(1)  # a service manager's restart delay
                processes.start_worker(index)
            elif fault == "restart redis":
                redis.crash()
                time.sleep(2)
                redis.start()
            else:
                pg.crash()
                events.append(chaos_check.Event(time.time(), "postgres down"))
                time.sleep(3)
                pg.start()
        _sleep_until(faults_at + args.fault_seconds, processes, crashed)
        plan.stop()
        faults_end = time.monotonic()
        print(f"chaos: {faults_end - burst_at:5.1f} s  faults stop; draining", flush=True)

        # Drain: until nothing is open, or the deadline.
        drained_at, last, shown = None, None, 0.0
        while time.monotonic() - faults_end < args.drain_deadline:
            last = chaos_check.progress(clinic)
            pending = webhooks.pending()
            if time.monotonic() - shown >= 10:
                shown = time.monotonic()
                print(
                    f"chaos: {shown - burst_at:5.1f} s  open {last}, webhooks pending {pending}", flush=True
                )
            if (
                last is not None
                and not any(last.values())
                and pending == 0
                and webhooks.seen_messages == len(double.messages)
            ):
                drained_at = time.monotonic()
                break
            _sleep_until(time.monotonic() + 2, processes, crashed)  # polling the open rows
        dead = processes.dead()
        connection.close()  # a connection from before PostgreSQL's restart is gone
        history = chaos_check.check(clinic, double, inbound, events, client_timeout=CLIENT_TIMEOUT)
        history.figures["accepted_per_10_s"] = chaos_check.timeline(double, burst_wall, 10.0)
        if drained_at is None:
            history.problems.insert(
                0, f"not drained {args.drain_deadline:.0f} s after the faults stopped: {last}"
            )
        if dead:
            history.problems.append(f"processes that stopped on their own: {', '.join(dead)}")
        return {
            "reminders": args.reminders,
            "inbound_texts": args.inbound,
            "inbound_posted_twice": duplicates_posted,
            "workers": args.workers,
            "fault_seconds": args.fault_seconds,
            "provider_rate_per_second": rate,
            "faults": [e.what for e in events],
            "provider_faults": dict(plan.counts),
            "webhooks_answered": dict(webhooks.counts),
            "webhooks_retried": dict(webhooks.retries),
            "webhook_failures": dict(webhooks.answers),
            "seed_seconds": round(seeded, 1),
            "run_seconds": round((drained_at or time.monotonic()) - burst_at, 1),
            "first_texts_after_seconds": round(faults_at - burst_at, 1),
            "workers_stopped_on_their_own": crashed,
            "drain_seconds": round(drained_at - faults_end, 1) if drained_at else None,
            "recovery": {
                "sending_timeout_seconds": int(env.get("CARELINE_SENDING_TIMEOUT_SECONDS", "180")),
                "lost_task_seconds": int(env.get("CARELINE_LOST_TASK_SECONDS", "120")),
            },
            **history.figures,
            "duplicate_texts": history.duplicates,
            "problems": history.problems,
            "ok": not history.problems,
            "logs": "" if not history.problems else processes.log_tail(),
        }
    finally:
        if webhooks is not None:
            webhooks.stop()
        processes.stop()
        double.stop()
        redis.stop()
        pg.stop()


def _wait_ready(processes: Processes, workers: int) -> None:
    """Until every worker answers a ping over the broker (and beat has had time for a sweep)."""
    from careline.celery import app

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        dead = processes.dead()
        if dead:
            raise SystemExit(f"chaos: {', '.join(dead)} stopped while starting\n{processes.log_tail()}")
        if len(app.control.ping(timeout=1.0) or []) >= workers:
            time.sleep(4)  # two sweeps of beat
            return
    raise SystemExit(f"chaos: the workers did not answer within 180 s\n{processes.log_tail()}")


def _sleep_until(moment: float, processes: Processes, crashed: list[str] | None = None) -> None:
    """Until MOMENT, starting again any worker that stopped on its own (noted in CRASHED)."""
    while time.monotonic() < moment:
        for index in processes.revive_workers():
            if crashed is not None:
                crashed.append(f"worker {index}: {_last_error(processes, index)}")
        time.sleep(min(0.2, max(0.0, moment - time.monotonic())))  # the fault timeline's clock


def _last_error(processes: Processes, index: int) -> str:
    """The worker's last CRITICAL or ERROR log line (why it stopped)."""
    lines = (processes.log_dir / f"worker-{index}.log").read_text(errors="replace").splitlines()
    found = [line for line in lines if "CRITICAL" in line or "ERROR" in line]
    return found[-1][-200:] if found else "no error logged"


def report(result: dict[str, Any]) -> str:
    """Markdown for the README."""
    lines = [
        f"Chaos run: {result['reminders']:,} reminders due at once and {result['inbound_texts']:,} inbound texts "
        f"({result['inbound_posted_twice']} posted twice), {result['workers']} workers, the channel limited to "
        f"{result['provider_rate_per_second']} texts/s, faults for "
        f"{result['fault_seconds']:.0f} s: {', '.join(result['faults'])}; provider faults "
        f"{result['provider_faults']}.",
        "",
        "| Check | Result |",
        "| --- | --- |",
        f"| Reminders | {result['reminder_states']} |",
        f"| Outbound texts | {result['outbound']} |",
        f"| Duplicates (each explained) | {result['duplicates'] or 'none'} |",
        f"| Texts after an opt-out | {result['texts_after_opt_out']} |",
        f"| Inbound texts | {result['inbound']} |",
        f"| Delivery reports | {result['reports']} |",
        f"| Webhooks retried by the provider | {result['webhooks_retried'] or 'none'} ({result['webhook_failures']}) |",
        f"| Texts accepted per 10 s from the burst | {result['accepted_per_10_s']} |",
        f"| Drained after the faults stopped | {result['drain_seconds']} s (recovery timeouts {result['recovery']}) |",
        f"| Workers that stopped on their own (started again) | {'; '.join(result['workers_stopped_on_their_own']) or 'none'} |",
        f"| Problems | {'; '.join(result['problems']) or 'none'} |",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--short", action="store_true", help="the CI version: 1,000 reminders, one fault each"
    )
    parser.add_argument("--reminders", type=int)
    parser.add_argument("--inbound", type=int)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--fault-seconds", type=float)
    parser.add_argument("--kill-every", type=float)
    parser.add_argument("--drain-deadline", type=float)
    parser.add_argument("--seed", type=int, default=20261206)
    parser.add_argument("--keep", action="store_true", help="keep the run's folder (databases, logs)")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "chaos" / "result.json")
    args = parser.parse_args(argv)
    defaults = (1000, 200, 24.0, 10.0, 120.0) if args.short else (10_000, 2000, 60.0, 20.0, 420.0)
    for name, value in zip(
        ("reminders", "inbound", "fault_seconds", "kill_every", "drain_deadline"), defaults, strict=True
    ):
        if getattr(args, name) is None:
            setattr(args, name, value)
    folder = Path(tempfile.mkdtemp(prefix="careline-chaos-"))
    folder.chmod(0o755)  # the PostgreSQL account reaches its cluster folder inside
    try:
        result = run(args, folder)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, default=str))
    print(report(result))
    if not result["ok"]:
        print(result["logs"][-6000:], file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
